import { spawnWatchdog } from "../executor/die-with-strata.ts";
import { shQuote } from "../executor/fstab.ts";
import { memoryBase } from "../sandbox-util/memory-dir.ts";
import type { Store } from "./store.ts";

/**
 * One idle `sh` per build that cleans up the moment strata dies without cleaning up itself
 * (SIGKILL, the OOM killer; see {@link spawnWatchdog}): it detaches every
 * mount under this build's work directories (`tmp/*-<pid>-*`: RUN overlays, stage views for
 * bind mounts), removes those directories (upper directories, private copies) and this
 * build's memory directories (secret files, runtime bundles). RUN processes themselves die on
 * their own parent-death signals (die-with-strata.ts). {@link reclaimDeadBuilds} is the second
 * line, for a watchdog that was killed too.
 */
export function startBuildWatchdog(store: Store): { stop(): void } {
  const pid = String(process.pid);
  const tmp = store.path("tmp");
  const mem = memoryBase();
  // Three passes: a `mount` strata started just before it died may still complete.
  return spawnWatchdog(
    `for pass in 1 2 3; do for d in ${shQuote(tmp)}/*-${pid}-*; do [ -d "$d" ] || continue;` +
      // Deepest first; mountinfo escapes blanks as \040, which printf %b turns back.
      ` awk -v p="$d/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$(printf %b "$m")" 2>/dev/null; done;` +
      ` awk -v p="$d/" 'index($5, p) == 1 { n++ } END { exit n > 0 }' /proc/self/mountinfo && rm -rf "$d"; done;` +
      ` rm -rf ${shQuote(mem)}/strata-*-${pid}-*; [ $pass = 3 ] || sleep 0.2; done`,
  );
}
