import { readFile } from "node:fs/promises";

/** One line of `/proc/<pid>/mountinfo` (see proc(5)), with octal escapes decoded. */
export interface MountInfo {
  readonly id: number;
  readonly parentId: number;
  /** The path inside the mounted file system that forms this mount's root. */
  readonly root: string;
  readonly mountPoint: string;
  readonly options: string;
  readonly fsType: string;
  readonly source: string;
  readonly superOptions: string;
}

export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const [left, right] = line.split(" - ");
    if (left === undefined || right === undefined) continue;
    const f = left.split(" ");
    const r = right.split(" ");
    out.push({
      id: Number(f[0]),
      parentId: Number(f[1]),
      root: unescapeOctal(f[3] ?? ""),
      mountPoint: unescapeOctal(f[4] ?? ""),
      options: f[5] ?? "",
      fsType: r[0] ?? "",
      source: unescapeOctal(r[1] ?? ""),
      superOptions: r[2] ?? "",
    });
  }
  return out;
}

export async function readMountInfo(pid: number | "self" = "self"): Promise<MountInfo[]> {
  return parseMountInfo(await readFile(`/proc/${pid}/mountinfo`, "utf8"));
}

/** Mount points at or below `dir` in this process's mount namespace. */
export async function mountsUnder(dir: string): Promise<MountInfo[]> {
  const prefix = dir.endsWith("/") ? dir : `${dir}/`;
  return (await readMountInfo()).filter((m) => m.mountPoint === dir || m.mountPoint.startsWith(prefix));
}

function unescapeOctal(s: string): string {
  if (!s.includes("\\")) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\\" && /^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      bytes.push(parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(...Buffer.from(s[i]!, "utf8"));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}
