export type { Network, NetworkMode, PortMapping, StartNetworkOptions } from "./types.ts";
export { startNetwork } from "./start-network.ts";
export { parsePortMapping } from "./ports.ts";
