import { from, TARGETARCH, TARGETOS, TARGETVARIANT } from "@strata/core";

// A docker file for scripts/make/build-docker.sh.
export default from("alpine:3.23")
  .arg("BUILD_DATE")
  .arg("VERSION")
  .arg("VCS_REF")
  .label({
    maintainer: "AdGuard Team <devteam@adguard.com>",
    "org.opencontainers.image.authors": "AdGuard Team <devteam@adguard.com>",
    "org.opencontainers.image.created": "$BUILD_DATE",
    "org.opencontainers.image.description": "Network-wide ads & trackers blocking DNS server",
    "org.opencontainers.image.documentation": "https://github.com/AdguardTeam/AdGuardHome/wiki/",
    "org.opencontainers.image.licenses": "GPL-3.0",
    "org.opencontainers.image.revision": "$VCS_REF",
    "org.opencontainers.image.source": "https://github.com/AdguardTeam/AdGuardHome",
    "org.opencontainers.image.title": "AdGuard Home",
    "org.opencontainers.image.url": "https://adguard.com/en/adguard-home/overview.html",
    "org.opencontainers.image.vendor": "AdGuard",
    "org.opencontainers.image.version": "$VERSION"
  })
  // Update certificates.
  .run(`apk --no-cache add ca-certificates libcap tzdata && \
	mkdir -p /opt/adguardhome/conf /opt/adguardhome/work && \
	chown -R nobody: /opt/adguardhome`)
  .arg("DIST_DIR")
  .arg(TARGETARCH)
  .arg(TARGETOS)
  .arg(TARGETVARIANT)
  .copy("./$DIST_DIR/docker/AdGuardHome_${TARGETOS}_${TARGETARCH}_$TARGETVARIANT", "/opt/adguardhome/AdGuardHome", { chown: "nobody:nogroup", chmod: 0o755 })
  .run("setcap 'cap_net_bind_service=+eip' /opt/adguardhome/AdGuardHome")
  // 53     : TCP, UDP : DNS
  // 67     :      UDP : DHCP (server)
  // 68     :      UDP : DHCP (client)
  // 80     : TCP      : HTTP (main)
  // 443    : TCP, UDP : HTTPS, DNS-over-HTTPS (incl. HTTP/3), DNSCrypt (main)
  // 853    : TCP, UDP : DNS-over-TLS, DNS-over-QUIC
  // 3000   : TCP, UDP : HTTP(S) (alt, incl. HTTP/3)
  // 5443   : TCP, UDP : DNSCrypt (alt)
  // 6060   : TCP      : HTTP (pprof)
  .expose(53, "53/udp", "67/udp", "68/udp", 80, 443, "443/udp", 853, "853/udp", 3000, "3000/udp", 5443, "5443/udp", 6060)
  .workdir("/opt/adguardhome/work")
  .entrypoint(["/opt/adguardhome/AdGuardHome"])
  .cmd(["--no-check-update", "-c", "/opt/adguardhome/conf/AdGuardHome.yaml", "-w", "/opt/adguardhome/work"]);
