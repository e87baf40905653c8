export { generateImageModule, type GenerateOptions, type GeneratedModule, type GeneratedTarget } from "./generate.ts";
