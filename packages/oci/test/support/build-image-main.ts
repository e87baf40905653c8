// Run in a separate process by the reproducibility test: builds the sample image and prints its digests.
import { FsBlobStore } from "../../src/index.ts";
import { buildSampleImage } from "./sample-image.ts";

const [srcDir, storeDir, compression] = process.argv.slice(2) as [string, string, "none" | "gzip"];
const image = await buildSampleImage(srcDir, new FsBlobStore(storeDir), compression);
process.stdout.write(JSON.stringify({ manifest: image.manifestDigest, config: image.manifest.config.digest, layers: image.layers.map((l) => l.descriptor.digest) }));
