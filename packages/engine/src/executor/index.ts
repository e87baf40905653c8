export type { ContainerIO, ExecControl, ExecIO, ExecMount, ExecNetwork, ExecResult, ExecSpec, ExecUser, Executor, ExecutorName } from "./types.ts";
export { OciRuntimeExecutor, type OciRuntimeExecutorOptions } from "./runc-executor.ts";
export { SandboxExecutor, type SandboxExecutorOptions } from "./sandbox-executor.ts";
export { createExecutors, selectExecutor, type ExecutorChoice, type SelectExecutorOptions } from "./select-executor.ts";
export { homeForUid, resolveUser, type ResolvedUser } from "./resolve-user.ts";
export { DEFAULT_CAPABILITIES } from "./security-profile.ts";
export { parsePortMapping, startNetwork, type Network, type NetworkMode, type PortMapping, type StartNetworkOptions } from "./network/index.ts";
