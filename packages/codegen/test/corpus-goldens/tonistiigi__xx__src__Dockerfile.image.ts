import { arg, BUILDPLATFORM, cache, from, git, http, scratch, stageFor } from "@strata/core";

const TEST_BASE_TYPE = arg("TEST_BASE_TYPE", "alpine");
const TEST_BASE_IMAGE = arg("TEST_BASE_IMAGE", "$TEST_BASE_TYPE");
const TEST_WITH_DARWIN = arg("TEST_WITH_DARWIN", false);
const BATS_VERSION = arg("BATS_VERSION", "v1.13.0");

// build prepares the sources
export const build = from("alpine", { platform: BUILDPLATFORM })
  .copy("xx-*", "/out/")
  .run(`ln -s xx-cc /out/xx-clang && \
    ln -s xx-cc /out/xx-clang++ && \
    ln -s xx-cc /out/xx-c++ && \
    ln -s xx-apt /out/xx-apt-get`);

// xx builds the xx image
export const xx = scratch()
  .copy(build.path("/out/"), "/usr/bin/");

const batsSrc = scratch()
  .arg(BATS_VERSION)
  .add(git("https://github.com/bats-core/bats-core.git", { ref: "$BATS_VERSION" }), ".");

const batsAssert = from("tonistiigi/bats-assert", { platform: BUILDPLATFORM });

const testBaseAlpine = from(TEST_BASE_IMAGE)
  .run(`ln -s /pkg-cache /etc/apk/cache && \
    apk add bash vim`, { mounts: [cache("/pkg-cache")] })
  .workdir("/work");

const testBaseDebian = from(TEST_BASE_IMAGE)
  .run(`rm -rf /var/cache/apt/archives && \
    ln -s /pkg-cache /var/cache/apt/archives && \
    rm /etc/apt/apt.conf.d/docker-clean && \
    echo 'Binary::apt::APT::Keep-Downloaded-Packages "1";' > /etc/apt/apt.conf.d/keep-downloads && \
    apt update && apt install --no-install-recommends -y bash vim`, { mounts: [cache("/pkg-cache")] })
  .workdir("/work");

const testBaseRhel = from(TEST_BASE_IMAGE)
  .run(`set -ex
. /etc/os-release
if [[ "$ID" = "centos" ]] && [[ "$VERSION_ID" = "7" ]]; then
  # CentOS 7 is EOL since June 30, 2024, use vault.centos.org
  sed -i 's/mirrorlist/#mirrorlist/g' /etc/yum.repos.d/CentOS-*
  sed -i 's|#baseurl=http://mirror.centos.org|baseurl=http://vault.centos.org|g' /etc/yum.repos.d/CentOS-*
fi
if ! yum install -y epel-release; then
  case "$ID" in
    fedora) ;;
    rocky)
      dnf install -y epel-release
      ;;
    *)
      yum install -y https://dl.fedoraproject.org/pub/epel/epel-release-latest-\${VERSION:0:1}.noarch.rpm
      yum update -y
      ;;
  esac
fi
if command -v dnf >/dev/null 2>/dev/null; then
  dnf install -y bash vim
else
  yum install -y bash vim
fi
`)
  .workdir("/work");

const testBase = stageFor(`test-base-${TEST_BASE_TYPE}`, {
  "test-base-alpine": testBaseAlpine,
  "test-base-debian": testBaseDebian,
  "test-base-rhel": testBaseRhel
}, {
  otherwise: from(`test-base-${TEST_BASE_TYPE}`)
})
  .add(http("https://raw.githubusercontent.com/fsaintjacques/semver-tool/3.4.0/src/semver"), "/usr/bin/semver", { chmod: 0o755 })
  .copy(batsSrc, "/opt/bats")
  .run("/opt/bats/install.sh /usr && bats --version")
  .copy(batsAssert.path("."), ".")
  .copy(xx, "/");

const testBaseFixtures = from(testBase)
  .copy("fixtures", "fixtures");

const testInfo = from(testBase)
  .arg(TEST_BASE_TYPE)
  .copy(["test-info-common.bats", "test-info-$TEST_BASE_TYPE.bats"], "./")
  .run("./test-info-common.bats && ./test-info-${TEST_BASE_TYPE}.bats");

const testWindres = from(testBase)
  .copy(["test-windres.bats", "test_helper.bash"], "./")
  .run("./test-windres.bats", { mounts: [cache("/pkg-cache", { sharing: "locked" })] });

const testApt = from(testBase)
  .copy(["test-apt.bats", "test_helper.bash"], "./")
  .run("[ ! -f /etc/debian_version ] || ./test-apt.bats", { mounts: [cache("/pkg-cache", { sharing: "locked" })] });

const testApk = from(testBase)
  .copy("test-apk.bats", ".")
  .run("[ ! -f /etc/alpine-release ] || ./test-apk.bats", { mounts: [cache("/pkg-cache", { sharing: "locked" })] });

const testVerify = from(testBase)
  .copy("test-verify.bats", ".")
  .run("./test-verify.bats", { mounts: [cache("/pkg-cache", { sharing: "locked" })] });

const testClang = from(testBaseFixtures)
  .copy(["test-clang.bats", "test_helper.bash"], "./")
  .run("./test-clang.bats", { mounts: [cache("/pkg-cache", { sharing: "locked" })] });

const testGo = from(testBaseFixtures)
  .copy(["test-go.bats", "test_helper.bash"], "./")
  .run("./test-go.bats", {
    mounts: [cache("/pkg-cache", { sharing: "locked" }), cache("/root/.cache")]
  });

const testCargo = from(testBaseFixtures)
  .copy(["test-cargo.bats", "test_helper.bash"], "./")
  .run("./test-cargo.bats", { mounts: [cache("/pkg-cache", { sharing: "locked" })] });

// these targets can be overwritten with build contexts
const sdkExtras = scratch();

export const ld64 = scratch();

// dev can be used for debugging during development
export const dev = from(testBase)
  .copy(sdkExtras, "/", { link: true })
  .copy(ld64, "/usr/bin/", { link: true })
  .copy(xx, "/", { link: true })
  .copy("fixtures", "fixtures")
  .copy(["*.bats", "test_helper.bash"], "./");

// default is alias to build xx image
const defaultStage = from(xx);

export default defaultStage;

export {
  batsSrc as "bats-src",
  batsAssert as "bats-assert",
  testBaseAlpine as "test-base-alpine",
  testBaseDebian as "test-base-debian",
  testBaseRhel as "test-base-rhel",
  testBase as "test-base",
  testBaseFixtures as "test-base-fixtures",
  testInfo as "test-info",
  testWindres as "test-windres",
  testApt as "test-apt",
  testApk as "test-apk",
  testVerify as "test-verify",
  testClang as "test-clang",
  testGo as "test-go",
  testCargo as "test-cargo",
  sdkExtras as "sdk-extras",
};
