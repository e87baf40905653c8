import { from, TARGETARCH } from "@strata/core";

// Copyright (c) Tailscale Inc & contributors
// SPDX-License-Identifier: BSD-3-Clause

// Note that this Dockerfile is currently NOT used to build any of the published
// Tailscale container images and may have drifted from the image build mechanism
// we use.
// Tailscale images are currently built using https://github.com/tailscale/mkctr,
// and the build script can be found in ./build_docker.sh.
//
// If you want to build local images for testing, you can use make.
//
// To build a Tailscale image and push to the local docker registry:
//
//   $ REPO=local/tailscale TAGS=v0.0.1 PLATFORM=local  make publishdevimage
//
// To build a Tailscale image and push to a remote docker registry:
//
//   $ REPO=<your-registry>/<your-repo>/tailscale TAGS=v0.0.1  make publishdevimage
//
// This Dockerfile includes all the tailscale binaries.
//
// To build the Dockerfile:
//
//     $ docker build -t tailscale/tailscale .
//
// To run the tailscaled agent:
//
//     $ docker run -d --name=tailscaled -v /var/lib:/var/lib -v /dev/net/tun:/dev/net/tun --network=host --privileged tailscale/tailscale tailscaled
//
// To then log in:
//
//     $ docker exec tailscaled tailscale up
//
// To see status:
//
//     $ docker exec tailscaled tailscale status
const buildEnv = from("golang:1.26-alpine")
  .workdir("/go/src/tailscale")
  .copy(["go.mod", "go.sum"], "./")
  .run("go mod download")
  // Pre-build some stuff before the following COPY line invalidates the Docker cache.
  .run(`go install \
    github.com/aws/aws-sdk-go-v2/aws \
    github.com/aws/aws-sdk-go-v2/config \
    gvisor.dev/gvisor/pkg/tcpip/adapters/gonet \
    gvisor.dev/gvisor/pkg/tcpip/stack \
    golang.org/x/crypto/ssh \
    golang.org/x/crypto/acme \
    github.com/coder/websocket \
    github.com/mdlayher/netlink`)
  .copy(".", ".")
  // see build_docker.sh
  .arg("VERSION_LONG", "")
  .env("VERSION_LONG", "$VERSION_LONG")
  .arg("VERSION_SHORT", "")
  .env("VERSION_SHORT", "$VERSION_SHORT")
  .arg("VERSION_GIT_HASH", "")
  .env("VERSION_GIT_HASH", "$VERSION_GIT_HASH")
  .arg(TARGETARCH)
  .run(`GOARCH=$TARGETARCH go install -ldflags="\
      -X tailscale.com/version.longStamp=$VERSION_LONG \
      -X tailscale.com/version.shortStamp=$VERSION_SHORT \
      -X tailscale.com/version.gitCommitStamp=$VERSION_GIT_HASH" \
      -v ./cmd/tailscale ./cmd/tailscaled ./cmd/containerboot`);

export default from("alpine:3.22")
  .run("apk add --no-cache ca-certificates iptables iproute2 ip6tables")
  // Alpine 3.19 replaced legacy iptables with nftables based implementation.
  // Tailscale is used on some hosts that don't support nftables, such as Synology
  // NAS, so link iptables back to legacy version. Hosts that don't require legacy
  // iptables should be able to use Tailscale in nftables mode.  See
  // https://github.com/tailscale/tailscale/issues/17854
  .run("rm /usr/sbin/iptables && ln -s /usr/sbin/iptables-legacy /usr/sbin/iptables")
  .run("rm /usr/sbin/ip6tables && ln -s /usr/sbin/ip6tables-legacy /usr/sbin/ip6tables")
  .copy(buildEnv.path("/go/bin/*"), "/usr/local/bin/")
  // For compat with the previous run.sh, although ideally you should be
  // using build_docker.sh which sets an entrypoint for the image.
  .run("mkdir /tailscale && ln -s /usr/local/bin/containerboot /tailscale/run.sh");

export { buildEnv as "build-env" };
