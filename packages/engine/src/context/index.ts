export { snapshotContext, ContextSnapshot, type SnapshotOptions, type DigestStats } from "./snapshot.ts";
export { StatCache, type StatKey } from "./stat-cache.ts";
export { parseIgnoreFile, findIgnoreFile, type IgnoreFile } from "./ignore-file.ts";
export { PatternMatcher, Pattern, type MatchInfo } from "./pattern-matcher.ts";
export { goMatch, validateGoPattern, containsWildcards, BadPatternError } from "./go-match.ts";
export { cleanPath } from "./go-path.ts";
export type { ContextEntry, ContextEntryType, SkippedEntry } from "./context-entry.ts";
