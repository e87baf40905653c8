export { startRegistry, TOKEN_ISSUER, TOKEN_SERVICE, type StartRegistryOptions, type TestRegistry } from "./registry-server.ts";
export { startTokenIssuer, generateSigningCert, type TokenIssuer, type TokenRequestLog } from "./token-issuer.ts";
export { startFaultProxy, type Fault, type FaultRule, type FaultProxy, type ProxyLogEntry } from "./fault-proxy.ts";
export { busyboxImage, randomImage, indexOf, tempStore, sha256, type StoredImage } from "./images.ts";
export { freePort } from "./ports.ts";
