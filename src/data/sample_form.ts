/**
 * The check of what a dataset's `get(i)` returned, before the loader reads
 * it. A PyTorch `__getitem__` returns an `(image, label)` tuple with a
 * [1, H, W] tensor image; here a sample is `{ image: { data, width, height },
 * label }` with a plain Float32Array. Without this check either form failed
 * deep in the loader ("Cannot read properties of undefined (reading
 * 'length')", "label must be an integer, got undefined"); now the message
 * says what was given and what to write.
 *
 * Tensor images are refused rather than converted: a sample holds plain
 * pixels so that a dataset owns no native memory (a tensor made per sample
 * would need a `dispose()` nobody calls) and can run in a worker thread.
 *
 * A volume is the same with a `depth`: `{ image: { data, width, height,
 * depth }, label }`, voxels row-major as [D, H, W]; with `channels` C, as
 * [C, D, H, W]. Whether a sample is a volume is decided by `depth` alone
 * (present: a volume, even of depth 1).
 *
 * @module
 */
import type { Sample, VolumeSample } from "./types.ts";

/** The expected form, as every message spells it. */
export const SAMPLE_FORM = "{ image: { data: Float32Array, width, height }, label }";

/** The expected form of a volume sample. */
export const VOLUME_FORM = "{ image: { data: Float32Array, width, height, depth }, label }";

/** A short description of a value, for the messages. */
function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (isTensorLike(v)) return `a Tensor of shape [${v.shape}] (${v.dtype})`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  if (typeof v === "object") {
    const keys = Object.keys(v).slice(0, 6);
    return `an object with keys { ${keys.join(", ")} }`;
  }
  if (typeof v === "number" || v === undefined) return String(v);
  return `${typeof v} ${JSON.stringify(v) ?? String(v)}`;
}

function isTensorLike(v: unknown): v is { shape: number[]; dtype: string } {
  if (typeof v !== "object" || v === null) return false;
  const t = v as { shape?: unknown; toArray?: unknown };
  return Array.isArray(t.shape) && typeof t.toArray === "function";
}

/** What to write instead of a Tensor image of this shape. */
function tensorImageFix(shape: readonly number[]): string {
  if (shape.length === 4 && shape[0] === 1) {
    const [, d, h, w] = shape;
    return `return { image: { data: t.toArray() as Float32Array, width: ${w}, height: ${h}, ` +
      `depth: ${d} }, label } (a one-channel [1, D, H, W] volume); samples hold plain voxels, ` +
      "so datasets own no native memory and can run in workers";
  }
  if (shape.length === 4) {
    const [c, d, h, w] = shape;
    return `return { image: { data: t.toArray() as Float32Array, width: ${w}, height: ${h}, ` +
      `depth: ${d}, channels: ${c} }, label } (a [C, D, H, W] volume); samples hold plain ` +
      "voxels, so datasets own no native memory and can run in workers";
  }
  const hw = shape.length === 3 && shape[0] === 1
    ? shape.slice(1)
    : shape.length === 2
    ? shape
    : null;
  const dims = hw ? `width: ${hw[1]}, height: ${hw[0]}` : "width: W, height: H";
  const note = hw ? "" : " (one channel: [1, H, W] or [H, W])";
  return `return { image: { data: t.toArray() as Float32Array, ${dims} }, label }${note}; ` +
    "samples hold plain pixels, so datasets own no native memory and can run in workers";
}

/**
 * Throws unless `sample` has the form the loader reads (a 2-D image, or a
 * volume when `image.depth` is given), naming what was given instead;
 * returns it typed.
 */
export function checkSample(sample: unknown): Sample | VolumeSample {
  if (Array.isArray(sample)) {
    throw new Error(
      `get(i) returned ${describe(sample)} (a PyTorch (image, label) tuple?); ` +
        `expected ${SAMPLE_FORM}: return { image, label }`,
    );
  }
  if (typeof sample !== "object" || sample === null) {
    throw new Error(`get(i) returned ${describe(sample)}; expected ${SAMPLE_FORM}`);
  }
  const { image, label } = sample as { image?: unknown; label?: unknown };
  if (isTensorLike(image)) {
    throw new Error(
      `image is ${describe(image)}; expected ${SAMPLE_FORM}: ${tensorImageFix(image.shape)}`,
    );
  }
  if (typeof image !== "object" || image === null) {
    throw new Error(
      `image is ${image === undefined ? "missing" : describe(image)} in ${
        describe(sample)
      }; expected ${SAMPLE_FORM}`,
    );
  }
  const { data, width, height, depth, channels } = image as {
    data?: unknown;
    width?: unknown;
    height?: unknown;
    depth?: unknown;
    channels?: unknown;
  };
  const volume = depth !== undefined;
  const form = volume ? VOLUME_FORM : SAMPLE_FORM;
  if (!(data instanceof Float32Array)) {
    throw new Error(
      `image.data is ${data === undefined ? "missing" : describe(data)}; expected ${form}` +
        (Array.isArray(data) || ArrayBuffer.isView(data) ? " (Float32Array.from(pixels))" : ""),
    );
  }
  const sizes = [["width", width], ["height", height]] as [string, unknown][];
  if (volume) sizes.push(["depth", depth]);
  if (channels !== undefined) {
    if (!volume) {
      throw new Error(
        `image.channels is given (${describe(channels)}) but image.depth is not; 2-D images ` +
          `have one channel (batched [N, 1, H, W]): leave channels out, or give a volume ` +
          VOLUME_FORM.replace("depth }", "depth, channels }"),
      );
    }
    sizes.push(["channels", channels]);
  }
  for (const [k, v] of sizes) {
    if (!Number.isInteger(v) || (v as number) < 1) {
      throw new Error(`image.${k} must be a positive integer, got ${describe(v)}`);
    }
  }
  if (volume && channels !== undefined && channels !== 1) {
    const c = channels as number;
    if (data.length !== c * (depth as number) * (height as number) * (width as number)) {
      throw new Error(
        `volume has ${data.length} values for channels x depth x height x width ` +
          `${c}x${depth}x${height}x${width}`,
      );
    }
  } else if (volume) {
    if (data.length !== (depth as number) * (height as number) * (width as number)) {
      throw new Error(
        `volume has ${data.length} values for depth x height x width ${depth}x${height}x${width}`,
      );
    }
  } else if (data.length !== (width as number) * (height as number)) {
    throw new Error(`image has ${data.length} values for ${width}x${height}`);
  }
  checkLabel(label);
  return sample as Sample | VolumeSample;
}

function checkLabel(label: unknown): void {
  if (Number.isInteger(label)) return;
  if (isTensorLike(label)) {
    throw new Error(`label is ${describe(label)}; expected an integer: pass t.item()`);
  }
  throw new Error(
    `label must be an integer, got ${describe(label)}` +
      (label === undefined ? `; expected ${SAMPLE_FORM}` : ""),
  );
}

/**
 * The fields a well-formed sample has besides `image` and `label` (none
 * undefined): what the loader does not batch. The library's datasets (LiTS
 * slices, volumes, the cache, subset and concat wrappers) give
 * `{ image, label }` alone, so they never have any. A malformed sample
 * (`{ img, label }`) has none: the loader's error about it says enough.
 */
export function unbatchedFields(sample: unknown): string[] {
  if (typeof sample !== "object" || sample === null || Array.isArray(sample)) return [];
  const extra = Object.keys(sample).filter((k) =>
    k !== "image" && k !== "label" && (sample as Record<string, unknown>)[k] !== undefined
  );
  if (extra.length === 0) return extra;
  try {
    checkSample(sample);
  } catch {
    return [];
  }
  return extra;
}

/** The loader's warning for samples with `fields` it does not batch (torch's collate stacks them). */
export function unbatchedWarning(fields: readonly string[]): string {
  const list = fields.map((f) => `'${f}'`).join(", ");
  const first = /^[A-Za-z_$][\w$]*$/.test(fields[0]) ? fields[0] : "extra";
  return `DataLoader: the dataset's samples have ${fields.length === 1 ? "a field" : "fields"} ` +
    `${list} that the loader does not batch (a batch holds images, labels and indices; ` +
    "PyTorch's default collate would stack them too). Look them up by the dataset index: " +
    `batch.indices holds the indices of the batch's samples, e.g. ` +
    `[...batch.indices].map((i) => ${first}[i]) with ${first} your own array, or put what ` +
    "the model needs into image or label, or give the loader collateFn: data.defaultCollate " +
    "(which batches every field, as torch's). (Warned once per loader.)";
}
