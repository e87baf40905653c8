export * from "./executor/index.ts";
export * from "./snapshot/index.ts";
export * from "./context/index.ts";
export * from "./copy/index.ts";
export { Store, STORE_VERSION } from "./store/store.ts";
export { writeFileAtomic, writeJsonAtomic, readJsonOrUndefined } from "./store/atomic.ts";
