export { runContainer, type ContainerExit, type RunContainerOptions } from "./run-container.ts";
export { containerProcess, exposedPorts, type ContainerProcess, type ProcessOverrides } from "./process-config.ts";
export { parseMount, parseVolume } from "./volumes.ts";
export { readEnvFile } from "./env-file.ts";
export { listContainers, removeContainer, type ContainerRecord } from "./container-dirs.ts";
export { checkPlatform, hostPlatform } from "./platform.ts";
