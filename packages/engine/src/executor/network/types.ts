/**
 * The network a RUN step (or a `strata run` container) gets. The namespace is made and owned by
 * {@link startNetwork}; executors only join it by path.
 */

/** `default`: own namespace, outbound through a user-mode stack; `none`: own namespace, `lo` only; `host`: the host's. */
export type NetworkMode = "default" | "none" | "host";

/** One host→container port forward (`-p [IP:]HOST:CTR[/udp]`), parsed by {@link parsePortMapping}. */
export interface PortMapping {
  /** Host address to listen on; `0.0.0.0` (every IPv4 address) when the spec names none, as docker does. */
  readonly hostIp: string;
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: "tcp" | "udp";
}

export interface StartNetworkOptions {
  readonly mode: NetworkMode;
  /**
   * A private directory (mode 0700) for the stack's control socket; required when `ports` is
   * not empty. Nothing in it outlives {@link Network.close}.
   */
  readonly dir?: string;
  /** Host→container forwards; only with `mode: "default"` (a coded error otherwise). */
  readonly ports?: readonly PortMapping[];
  /** Extra `/etc/hosts` lines (`--add-host`), after the localhost lines. */
  readonly extraHosts?: readonly { readonly host: string; readonly ip: string }[];
  /** Written to /etc/hosts for 127.0.0.1 (default "strata"). */
  readonly hostname?: string;
}

/** A running network. Closing it is idempotent and leaves no process behind. */
export interface Network {
  readonly mode: NetworkMode;
  /**
   * `/proc/<pid>/ns/net` of the process holding the namespace, to join (runc's
   * `linux.namespaces[].path`, `nsenter --net=`); undefined for `host`. Valid until `close()`.
   */
  readonly netnsPath: string | undefined;
  /** The content of the step's `/etc/resolv.conf`. */
  readonly resolvConf: string;
  /** The content of the step's `/etc/hosts`. */
  readonly hosts: string;
  /** The container's own address on the stack's network (`10.0.2.100` for `default`), else undefined. */
  readonly containerIp: string | undefined;
  /** Stops the stack and releases the namespace (processes still inside keep it until they exit). */
  close(): Promise<void>;
}
