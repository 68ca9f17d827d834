/**
 * `--augment`: "none", "ct" (the CT preset of `data.transforms.ct()`), or a
 * comma list of transform names, each with the preset's parameters when the
 * preset has it and its own defaults otherwise.
 *
 * @module
 */
import { ct } from "../data/transforms/presets.ts";
import { fromSpec, transformNames } from "../data/transforms/compose.ts";
import type { TransformSpec } from "../data/transforms/transform.ts";
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
    try {
      return fromSpec({ name: known }).spec;
    } catch (e) {
      throw new UsageError(
        `--augment: ${known} needs parameters (${(e as Error).message}); ` +
          `use it from code with data.transforms`,
      );
    }
  });
}
