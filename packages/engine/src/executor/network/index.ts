export type { Network, NetworkMode, PortMapping, StartNetworkOptions } from "./types.ts";
export { startNetwork } from "./start-network.ts";
export { parsePortMapping } from "./ports.ts";
export { SLIRP_CONTAINER_IP, SLIRP_DNS_IP } from "./slirp.ts";
