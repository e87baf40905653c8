export { prepareRootfs, withRootfs, type PrepareRootfsOptions, type Rootfs, type SnapshotMode } from "./prepare-rootfs.ts";
export { diffUpperDir } from "./overlay-diff.ts";
export { unmountAllUnder } from "./overlay-mount.ts";
export { mountsUnder, readMountInfo, type MountInfo } from "../sandbox-util/mountinfo.ts";
