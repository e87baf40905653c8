import { arg, bind, BUILDPLATFORM, cache, context, file, from, scratch, stageFor, TARGETOS, TARGETPLATFORM } from "@strata/core";

const GO_VERSION = arg("GO_VERSION", "1.26");
const ALPINE_VERSION = arg("ALPINE_VERSION", "3.23");
const XX_VERSION = arg("XX_VERSION", "1.9.0");

// for testing
const DOCKER_VERSION = arg("DOCKER_VERSION", "29.6");
const DOCKER_VERSION_ALT_28 = arg("DOCKER_VERSION_ALT_28", "28.5");
const DOCKER_VERSION_ALT_27 = arg("DOCKER_VERSION_ALT_27", "27.5.1");
const DOCKER_CLI_VERSION = arg("DOCKER_CLI_VERSION", "$DOCKER_VERSION");
const GOTESTSUM_VERSION = arg("GOTESTSUM_VERSION", "v1.13.0");
const REGISTRY_VERSION = arg("REGISTRY_VERSION", "3.0.0");
const BUILDKIT_VERSION = arg("BUILDKIT_VERSION", "v0.32.1");
const COMPOSE_VERSION = arg("COMPOSE_VERSION", "v5.1.0");
const UNDOCK_VERSION = arg("UNDOCK_VERSION", "0.9.0");

export const xx = from(`tonistiigi/xx:${XX_VERSION}`, { platform: BUILDPLATFORM });

export const golatest = from(`golang:${GO_VERSION}-alpine${ALPINE_VERSION}`, { platform: BUILDPLATFORM });

const dockerEngine = from(`moby/moby-bin:${DOCKER_VERSION}`);

const dockerCli = from(`dockereng/cli-bin:${DOCKER_CLI_VERSION}`);

const dockerEngineAlt28 = from(`moby/moby-bin:${DOCKER_VERSION_ALT_28}`);

const dockerEngineAlt27 = from(`moby/moby-bin:${DOCKER_VERSION_ALT_27}`);

const dockerCliAlt28 = from(`dockereng/cli-bin:${DOCKER_VERSION_ALT_28}`);

const dockerCliAlt27 = from(`dockereng/cli-bin:${DOCKER_VERSION_ALT_27}`);

export const registry = from(`registry:${REGISTRY_VERSION}`);

export const buildkit = from(`moby/buildkit:${BUILDKIT_VERSION}`);

export const compose = from(`docker/compose-bin:${COMPOSE_VERSION}`);

export const undock = from(`crazymax/undock:${UNDOCK_VERSION}`);

export const gobase = from(golatest)
  .copy(xx, "/")
  .run("apk add --no-cache file git")
  .env("GOFLAGS", "-mod=vendor")
  .env("CGO_ENABLED", "0")
  .workdir("/src");

export const gotestsum = from(gobase)
  .arg(GOTESTSUM_VERSION)
  .env("GOFLAGS", "")
  .run(`  set -ex
  go install "gotest.tools/gotestsum@\${GOTESTSUM_VERSION}"
  go install "github.com/wadey/gocovmerge@latest"
  mkdir /out
  /go/bin/gotestsum --version
  mv /go/bin/gotestsum /out
  mv /go/bin/gocovmerge /out
`, { mounts: [cache("/root/.cache")] })
  .copy(file("EOF", `#!/bin/sh
set -x
if [ -z "$GO_TEST_COVERPROFILE" ]; then
  exec gotestsum "$@"
fi
coverdir="$(dirname "$GO_TEST_COVERPROFILE")"
mkdir -p "$coverdir/helpers"
gotestsum "$@" "-coverprofile=$GO_TEST_COVERPROFILE"
ecode=$?
go tool covdata textfmt -i=$coverdir/helpers -o=$coverdir/helpers-report.txt
gocovmerge "$coverdir/helpers-report.txt" "$GO_TEST_COVERPROFILE" > "$coverdir/merged-report.txt"
mv "$coverdir/merged-report.txt" "$GO_TEST_COVERPROFILE"
rm "$coverdir/helpers-report.txt"
for f in "$coverdir/helpers"/*; do
  rm "$f"
done
rmdir "$coverdir/helpers"
exit $ecode
`), "/out/gotestsumandcover", { chmod: 0o755 });

const buildxVersion = from(gobase)
  .run(`  set -e
  PKG=github.com/docker/buildx
  if [ -f .git ] && head -n 1 .git | grep -q "^gitdir:"; then
    VERSION=dev
    REVISION=dev
  else
    VERSION=$(git describe --match 'v[0-9]*' --dirty='.m' --always --tags)
    REVISION=$(git rev-parse HEAD)$(if ! git diff --no-ext-diff --quiet --exit-code; then echo .m; fi)
  fi
  echo "-X \${PKG}/version.Version=\${VERSION} -X \${PKG}/version.Revision=\${REVISION} -X \${PKG}/version.Package=\${PKG}" | tee /tmp/.ldflags
  echo -n "\${VERSION}" | tee /tmp/.version
`, { mounts: [bind(context(), ".")] });

const buildxBuild = from(gobase)
  .arg(TARGETPLATFORM)
  .arg("GO_EXTRA_FLAGS")
  .run(`  set -ex
  xx-go build -trimpath \${GO_EXTRA_FLAGS} -ldflags "-s -w $(cat /tmp/.ldflags)" -o /usr/bin/docker-buildx ./cmd/buildx
  file /usr/bin/docker-buildx
  xx-verify --static /usr/bin/docker-buildx
`, {
    mounts: [
      bind(context(), "."),
      cache("/root/.cache"),
      cache("/go/pkg/mod"),
      bind(buildxVersion.path("/tmp/.ldflags"), "/tmp/.ldflags")
    ]
  });

export const test = from(gobase)
  .env("SKIP_INTEGRATION_TESTS", "1")
  .run(`go test -v -coverprofile=/tmp/coverage.txt -covermode=atomic ./... && \
  go tool cover -func=/tmp/coverage.txt`, {
    mounts: [bind(context(), "."), cache("/root/.cache"), cache("/go/pkg/mod")]
  });

const testCoverage = scratch()
  .copy(test.path("/tmp/coverage.txt"), "/coverage.txt");

const binariesUnix = scratch()
  .copy(buildxBuild.path("/usr/bin/docker-buildx"), "/buildx", { link: true });

const binariesDarwin = from(binariesUnix);

const binariesFreebsd = from(binariesUnix);

const binariesLinux = from(binariesUnix);

const binariesNetbsd = from(binariesUnix);

const binariesOpenbsd = from(binariesUnix);

const binariesWindows = scratch()
  .copy(buildxBuild.path("/usr/bin/docker-buildx"), "/buildx.exe", { link: true });

export const binaries = stageFor(`binaries-${TARGETOS}`, {
  "binaries-unix": binariesUnix,
  "binaries-darwin": binariesDarwin,
  "binaries-freebsd": binariesFreebsd,
  "binaries-linux": binariesLinux,
  "binaries-netbsd": binariesNetbsd,
  "binaries-openbsd": binariesOpenbsd,
  "binaries-windows": binariesWindows
}, {
  otherwise: from(`binaries-${TARGETOS}`)
})
  // enable scanning for this stage
  .arg("BUILDKIT_SBOM_SCAN_STAGE", "true");

const integrationTestBase = from(gobase)
  // https://github.com/docker/docker/blob/master/project/PACKAGERS.md#runtime-dependencies
  .run(`apk add --no-cache \
      bash \
      btrfs-progs \
      e2fsprogs \
      e2fsprogs-extra \
      ip6tables \
      iptables \
      make \
      openssl \
      shadow-uidmap \
      xfsprogs \
      xz`)
  .copy(gotestsum.path("/out"), "/usr/bin/", { link: true })
  .copy(registry.path("/bin/registry"), "/usr/bin/", { link: true })
  .copy(dockerEngine, "/usr/bin/", { link: true })
  .copy(dockerCli, "/usr/bin/", { link: true })
  .copy(dockerEngineAlt28, "/opt/docker-alt-28/", { link: true })
  .copy(dockerEngineAlt27, "/opt/docker-alt-27/", { link: true })
  .copy(dockerCliAlt28, "/opt/docker-alt-28/", { link: true })
  .copy(dockerCliAlt27, "/opt/docker-alt-27/", { link: true })
  .copy(buildkit.path("/usr/bin/buildkitd"), "/usr/bin/", { link: true })
  .copy(buildkit.path("/usr/bin/buildctl"), "/usr/bin/", { link: true })
  .copy(compose.path("/docker-compose"), "/usr/bin/compose", { link: true })
  .copy(undock.path("/usr/local/bin/undock"), "/usr/bin/", { link: true })
  .copy(binaries.path("/buildx"), "/usr/bin/", { link: true })
  .run("mkdir -p /usr/local/lib/docker/cli-plugins && ln -s /usr/bin/buildx /usr/local/lib/docker/cli-plugins/docker-buildx")
  .env("TEST_DOCKER_EXTRA", "docker@28.5=/opt/docker-alt-28,docker@27.5=/opt/docker-alt-27");

const integrationTest = from(integrationTestBase)
  .copy(".", ".");

// Release
export const releaser = from(`alpine:${ALPINE_VERSION}`, { platform: BUILDPLATFORM })
  .workdir("/work")
  .arg(TARGETPLATFORM)
  .run(`  set -e
  mkdir -p /out
  cp buildx* "/out/buildx-$(cat /tmp/.version).$(echo $TARGETPLATFORM | sed 's/\\//-/g')$(ls buildx* | sed -e 's/^buildx//')"
`, {
    mounts: [
      bind(binaries, ""),
      bind(buildxVersion.path("/tmp/.version"), "/tmp/.version")
    ]
  });

export const release = scratch()
  .copy(releaser.path("/out/"), "/");

// Shell
const dockerdRelease = from(`docker:${DOCKER_VERSION}`);

export const shell = from(`alpine:${ALPINE_VERSION}`)
  .run("apk add --no-cache iptables tmux git vim less openssh")
  .run("mkdir -p /usr/local/lib/docker/cli-plugins && ln -s /usr/local/bin/buildx /usr/local/lib/docker/cli-plugins/docker-buildx")
  .copy("./hack/demo-env/entrypoint.sh", "/usr/local/bin")
  .copy("./hack/demo-env/tmux.conf", "/root/.tmux.conf")
  .copy(dockerdRelease.path("/usr/local/bin"), "/usr/local/bin")
  .workdir("/work")
  .copy("./hack/demo-env/examples", ".")
  .copy(binaries, "/usr/local/bin/")
  .volume("/var/lib/docker")
  .entrypoint(["entrypoint.sh"]);

export default from(binaries);

export {
  dockerEngine as "docker-engine",
  dockerCli as "docker-cli",
  dockerEngineAlt28 as "docker-engine-alt28",
  dockerEngineAlt27 as "docker-engine-alt27",
  dockerCliAlt28 as "docker-cli-alt28",
  dockerCliAlt27 as "docker-cli-alt27",
  buildxVersion as "buildx-version",
  buildxBuild as "buildx-build",
  testCoverage as "test-coverage",
  binariesUnix as "binaries-unix",
  binariesDarwin as "binaries-darwin",
  binariesFreebsd as "binaries-freebsd",
  binariesLinux as "binaries-linux",
  binariesNetbsd as "binaries-netbsd",
  binariesOpenbsd as "binaries-openbsd",
  binariesWindows as "binaries-windows",
  integrationTestBase as "integration-test-base",
  integrationTest as "integration-test",
  dockerdRelease as "dockerd-release",
};
