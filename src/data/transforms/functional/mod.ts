/**
 * The functional transforms (`transforms.F`): pure functions of an image and
 * explicit parameters (and an `Rng` where they draw noise), as
 * torchvision's `transforms.functional`. Each module here has a twin of the
 * same stem one folder up that holds the transform classes built on it
 * (`functional/crop.ts` and `crop.ts`), as torchvision's
 * `v2/functional/_geometry.py` and `v2/_geometry.py`; everything a module
 * exports is public, so a new op needs no line here.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const { F } = data.transforms;
 * const img = { data: new Float32Array(64 * 64).fill(0.5), width: 64, height: 64 };
 * const out = F.normalize(F.rotate(F.resize(img, [32, 32]), 10), 0.5, 0.25);
 * console.log(out.width, out.height); // 32 32
 * ```
 *
 * @module
 */
export * from "./autoaugment.ts";
export * from "./color.ts";
export * from "./crop.ts";
export * from "./elastic.ts";
export * from "./geometry.ts";
export * from "./intensity.ts";
export * from "./perspective.ts";
export * from "./resized_crop.ts";
