// The smallest useful image: one static binary on an empty filesystem.
// `hello` is a 218-byte Linux x86-64 executable made by scripts/make-hello.mjs (no libc needed).
import { scratch } from "@strata/core";

export default scratch()
  .copy("hello", "/hello", { chmod: 0o755 })
  .label({ "org.opencontainers.image.title": "hello", "org.opencontainers.image.description": "Strata's hello-world image" })
  .entrypoint(["/hello"]);
