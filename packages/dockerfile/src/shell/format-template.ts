/** Canonical template printing: the graph's own (one implementation). */
export { formatSegments as formatTemplate } from "@strata/graph";
