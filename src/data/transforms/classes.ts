/**
 * Every transform class, module by module: the one list a new module of
 * transform classes joins. `mod.ts` exports it and `fromSpec`'s registry is
 * built from it, so what users can construct and what a spec can name are
 * the same set. Each module's functional half has the same stem under
 * `functional/`.
 *
 * @module
 */
export * from "./autoaugment.ts";
export * from "./color.ts";
export * from "./conversion.ts";
export * from "./crop.ts";
export * from "./elastic.ts";
export * from "./geometry.ts";
export * from "./intensity.ts";
export * from "./perspective.ts";
export * from "./random_wrappers.ts";
export * from "./resized_crop.ts";
