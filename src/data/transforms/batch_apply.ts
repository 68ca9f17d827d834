/**
 * What `Transform.apply` accepts: one `Image`, or a batch tensor
 * `[N, 1, H, W]` (the layout a `DataLoader` yields and a model takes),
 * transformed sample by sample. Anything else gets an Error that says what
 * to pass instead.
 *
 * @module
 */
import { tensor } from "../../tensor/ops/creation.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import type { Rng } from "../rng.ts";
import type { Image } from "../types.ts";
import { checkImage, recycle } from "./image.ts";

const EXPECTED = "an Image { data: Float32Array, width, height } or a float32 Tensor [N, 1, H, W]";

/** Throws unless `input` is a well-formed Image, naming the transform. */
export function checkInput(name: string, input: unknown): void {
  const o = input as Partial<Image> | null;
  if (o === null || typeof o !== "object" || !("data" in o) || !("width" in o)) {
    let got: string = typeof input;
    if (input === null) got = "null";
    else if (ArrayBuffer.isView(input)) got = `a ${input.constructor.name}`;
    else if (Array.isArray(input)) got = "an array";
    else if (typeof input === "object") got = `a ${input.constructor?.name ?? "object"}`;
    else got = `${typeof input} ${String(input)}`;
    const hint = ArrayBuffer.isView(input) ? "; wrap the pixels: { data, width, height }" : "";
    throw new Error(`${name}.apply: expected ${EXPECTED}, got ${got}${hint}`);
  }
  checkImage(o as Image, `${name}.apply`);
}

/**
 * Applies `one` to every sample of `batch` (each with `rng.split()`) and
 * stacks the results into a new tensor on the batch's device.
 */
export function applyToBatch(
  name: string,
  batch: Tensor,
  rng: Rng,
  one: (image: Image, rng: Rng) => Image,
): Tensor {
  const shape = batch.shape;
  if (shape.length !== 4 || shape[1] !== 1) {
    const fix = shape.length === 3 && shape[0] === 1
      ? `; for one image write x.reshape([1, ${shape.join(", ")}])`
      : shape.length === 2
      ? `; for one image write x.reshape([1, 1, ${shape.join(", ")}])`
      : "";
    throw new Error(
      `${name}.apply: a batch tensor must be [N, 1, H, W] (one grey channel), ` +
        `got [${shape.join(", ")}]${fix}`,
    );
  }
  if (batch.dtype !== "float32") {
    throw new Error(`${name}.apply: a batch tensor must be float32, got ${batch.dtype}`);
  }
  const [n, , h, w] = shape;
  if (n === 0 || h === 0 || w === 0) {
    throw new Error(`${name}.apply: the batch [${shape.join(", ")}] has no pixels`);
  }
  const host = batch.toArray() as Float32Array; // from the device, if there
  let out: Float32Array | null = null;
  let oh = 0, ow = 0;
  for (let i = 0; i < n; i++) {
    const image = { data: host.subarray(i * h * w, (i + 1) * h * w), width: w, height: h };
    const y = one(image, rng.split());
    if (!out) {
      [oh, ow] = [y.height, y.width];
      out = new Float32Array(n * oh * ow);
    } else if (y.height !== oh || y.width !== ow) {
      throw new Error(
        `${name}.apply: sample ${i} came out ${y.height}x${y.width} (h x w), sample 0 ` +
          `${oh}x${ow}; a batch needs one size (end the pipeline with a Resize)`,
      );
    }
    out.set(y.data, i * oh * ow);
    if (y.data !== image.data) recycle(y.data);
  }
  return tensor(out!, [n, 1, oh, ow], { device: batch.device });
}
