/**
 * `--augment`: "none", "ct" (the CT preset of `data.transforms.ct()`), or a
 * comma list of transform names, each with the preset's parameters when the
 * preset has it and its own defaults otherwise.
 *
 * @module
 */
import { ct } from "../data/transforms/presets.ts";
import { fromSpec, transformNames } from "../data/transforms/compose.ts";
import type { Transform, TransformSpec } from "../data/transforms/transform.ts";
import { Rng } from "../data/rng.ts";
import { UsageError } from "./errors.ts";

/** Transform names `--augment` takes one by one, and their parameters. */
export function augmentSpecs(augment: string): TransformSpec[] {
  const value = augment.trim();
  if (value === "none") return [];
  const preset = ct().spec.transforms as TransformSpec[];
  if (value === "ct") return preset;
  const names = value.split(",").map((s) => s.trim()).filter(Boolean);
  return names.map((name) => {
    if (name === "ct" || name === "none") {
      throw new UsageError(`--augment ${augment}: "${name}" cannot be part of a list`);
    }
    const fromPreset = preset.find((s) => s.name.toLowerCase() === name.toLowerCase());
    if (fromPreset) return fromPreset;
    const known = transformNames().find((n) => n.toLowerCase() === name.toLowerCase());
    if (!known) {
      throw new UsageError(
        `--augment: unknown transform "${name}"; use none, ct, or names from ${
          transformNames().filter((n) => n !== "Compose").join(", ")
        }`,
      );
    }
    let transform;
    try {
      transform = fromSpec({ name: known });
    } catch (e) {
      throw new UsageError(
        `--augment: ${known} needs parameters (${(e as Error).message}); ` +
          `use it from code with data.transforms`,
      );
    }
    checkKeepsSize(transform);
    return transform.spec;
  });
}

/**
 * Throws where `t` can change an image's size (CropForeground, a crop):
 * the images of a batch would then differ and the run would fail in its
 * first batch. Tried on a slice-like test image, a bright disc on black.
 */
function checkKeepsSize(t: Transform): void {
  const side = 32;
  const data = new Float32Array(side * side);
  for (let i = 0; i < data.length; i++) {
    const y = Math.floor(i / side) - 15.5, x = (i % side) - 15.5;
    data[i] = x * x + y * y < 81 ? 1 : 0;
  }
  for (let seed = 0; seed < 8; seed++) {
    const out = t.apply({ data: data.slice(), width: side, height: side }, new Rng(seed));
    if (out.width !== side || out.height !== side) {
      throw new UsageError(
        `--augment: ${t.spec.name} changes the image size (${side}x${side} -> ` +
          `${out.width}x${out.height}), so the images of a batch would differ; use it from ` +
          "code with data.transforms, followed by a Resize",
      );
    }
  }
}
