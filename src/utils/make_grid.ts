/**
 * torchvision's `utils.make_grid`: a batch of images laid out as one image,
 * `nrow` to a row, with `padding` pixels of `padValue` around each, and
 * optionally scaled to [0, 1] (`normalize`) over the batch, per image
 * (`scaleEach`) or from a given `valueRange`. Same layout and float32
 * arithmetic as torchvision 0.14, including its quirks: a grey image is
 * repeated to 3 channels, and a batch of one comes back as that image,
 * without padding.
 *
 * The grid is computed on the host (it is for looking at, not for training:
 * no gradient, as torchvision's `@torch.no_grad()`) and put on the input's
 * device.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { tensor as makeTensor } from "../tensor/ops/creation.ts";
import { type CallContract, checkContract } from "../options.ts";

/** Options of {@link makeGrid}: torchvision's keywords, camelCased. */
export interface MakeGridOptions {
  /** Images in each row (torch's `nrow`; default 8). */
  nrow?: number;
  /** Pixels of `padValue` around each image (default 2). */
  padding?: number;
  /** Scale the images to [0, 1]: from `valueRange`, else their min and max (default false). */
  normalize?: boolean;
  /** `[lo, hi]` mapped to [0, 1] when `normalize` (torch's `value_range`); values outside clamp. */
  valueRange?: readonly [number, number];
  /** Scale each image by its own min and max, not the batch's (torch's `scale_each`). */
  scaleEach?: boolean;
  /** Value of the padding pixels (torch's `pad_value`; default 0). */
  padValue?: number;
}

const MAKE_GRID: CallContract<MakeGridOptions> = {
  where: "utils.makeGrid",
  most: 2,
  known: ["nrow", "padding", "normalize", "valueRange", "scaleEach", "padValue"],
  usage: "utils.makeGrid(batch, { nrow: 8, normalize: true, valueRange: [-200, 250] })",
};

/** A batch as [B, C, H, W] host values, with its dtype and device. */
interface Batch {
  data: Float32Array | Int32Array;
  shape: [number, number, number, number];
  tensor: Tensor;
}

function describe(x: unknown): string {
  if (x instanceof Tensor) return `a Tensor [${x.shape}]`;
  if (x === null) return "null";
  if (Array.isArray(x)) return `an array of ${x.length}`;
  return typeof x === "object" ? `a ${x.constructor?.name ?? "object"}` : `${typeof x} ${x}`;
}

/** A list of images stacked into one batch, as torch.stack (same shape, dtype, device). */
function stackList(
  where: string,
  list: readonly unknown[],
): { data: Float32Array | Int32Array; shape: number[]; first: Tensor } {
  if (list.length === 0) throw new Error(`${where}: got an empty list; pass at least one image`);
  list.forEach((t, i) => {
    if (!(t instanceof Tensor)) {
      throw new Error(`${where}: a list of tensors expected, got ${describe(t)} at [${i}]`);
    }
  });
  const ts = list as readonly Tensor[];
  const first = ts[0];
  for (const [i, t] of ts.entries()) {
    if (
      t.shape.join() !== first.shape.join() || t.dtype !== first.dtype || t.device !== first.device
    ) {
      throw new Error(
        `${where}: list images must share shape, dtype and device (torch.stack); [0] is ` +
          `${first.dtype} [${first.shape}] on ${first.device}, [${i}] is ${t.dtype} [${t.shape}] on ${t.device}`,
      );
    }
  }
  if (first.ndim === 2 && ts.length > 1) {
    // torch.stack makes [N, H, W], which torchvision takes as ONE N-channel image.
    throw new Error(
      `${where}: a list of ${ts.length} [H, W] images stacks to one ${ts.length}-channel image ` +
        `in torchvision, not a grid; give each a channel: list.map((t) => t.unsqueeze(0))`,
    );
  }
  const per = first.numel();
  const data = first.dtype === "int32"
    ? new Int32Array(per * ts.length)
    : new Float32Array(per * ts.length);
  ts.forEach((t, i) => data.set(t.toArray(), i * per));
  return { data, shape: [ts.length, ...first.shape], first };
}

/** The input as a [B, C, H, W] batch, as torchvision reads 2-D, 3-D, 4-D tensors and lists. */
function toBatch(where: string, input: unknown): Batch {
  let data: Float32Array | Int32Array;
  let shape: number[];
  let t: Tensor;
  if (input instanceof Tensor) {
    t = input;
    shape = [...input.shape];
  } else if (Array.isArray(input)) {
    const s = stackList(where, input);
    ({ data, shape } = s);
    t = s.first;
  } else {
    throw new Error(`${where}: a Tensor or a list of Tensors expected, got ${describe(input)}`);
  }
  if (shape.length < 2 || shape.length > 4) {
    throw new Error(
      `${where}: takes [B, C, H, W], [C, H, W] or [H, W], got ${shape.length}-D [${shape}]` +
        (shape.length === 5 ? "; for a volume pick slices first, e.g. x.select(2, depth / 2)" : ""),
    );
  }
  if (shape.length === 3 && ![1, 3, 4].includes(shape[0]) && input instanceof Tensor) {
    // torchvision takes [5, H, W] as one 5-channel image: rarely what a batch of slices means.
    throw new Error(
      `${where}: a 3-D tensor is one [C, H, W] image, and [${shape}] has ${shape[0]} channels; ` +
        `for a batch of ${shape[0]} grey slices write x.unsqueeze(1) ([${shape[0]}, 1, ${
          shape[1]
        }, ${shape[2]}])`,
    );
  }
  if (shape.some((d) => d === 0)) throw new Error(`${where}: no pixels in [${shape}]`);
  data ??= t.toArray();
  if (shape.length === 2) shape = [1, ...shape];
  if (shape.length === 3) shape = [1, ...shape];
  const [b, c, h, w] = shape;
  if (c === 1) {
    // torchvision repeats a grey channel to RGB.
    const grey = data;
    data = grey instanceof Int32Array
      ? new Int32Array(b * 3 * h * w)
      : new Float32Array(b * 3 * h * w);
    const plane = h * w;
    for (let i = 0; i < b; i++) {
      const src = grey.subarray(i * plane, (i + 1) * plane);
      for (let k = 0; k < 3; k++) data.set(src, (i * 3 + k) * plane);
    }
  }
  return { data, shape: [b, c === 1 ? 3 : c, h, w], tensor: t };
}

/** torchvision's norm_ip on `v` in place: clamp to [lo, hi], minus lo, over max(hi - lo, 1e-5). */
function normalizeRange(v: Float32Array, lo: number, hi: number): void {
  const flo = Math.fround(lo), fhi = Math.fround(hi);
  const scale = Math.fround(Math.max(hi - lo, 1e-5));
  for (let i = 0; i < v.length; i++) {
    const x = Math.min(Math.max(v[i], flo), fhi);
    v[i] = Math.fround(x - flo) / scale;
  }
}

/** The min and max of `v`, refusing NaN and infinities (torch's whole grid would be NaN or 0). */
function range(where: string, v: Float32Array, what: string): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (!Number.isFinite(x)) {
      throw new Error(
        `${where}: ${what} holds ${x}, so normalize has no finite min and max (torchvision's ` +
          `grid would come out NaN); replace them first, e.g. x.nanToNum(), or give valueRange`,
      );
    }
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return [lo, hi];
}

function checkOptionValues(
  where: string,
  o: MakeGridOptions,
): Required<Omit<MakeGridOptions, "valueRange">> & {
  valueRange?: readonly [number, number];
} {
  const nrow = o.nrow ?? 8, padding = o.padding ?? 2, padValue = o.padValue ?? 0;
  if (!Number.isInteger(nrow) || nrow < 1) {
    throw new Error(`${where}: nrow must be a whole number >= 1 (images per row), got ${nrow}`);
  }
  if (!Number.isInteger(padding) || padding < 0) {
    throw new Error(`${where}: padding must be a whole number >= 0 (pixels), got ${padding}`);
  }
  if (typeof padValue !== "number" || Number.isNaN(padValue)) {
    throw new Error(`${where}: padValue must be a number, got ${String(padValue)}`);
  }
  for (const key of ["normalize", "scaleEach"] as const) {
    if (o[key] !== undefined && typeof o[key] !== "boolean") {
      throw new Error(`${where}: ${key} must be true or false, got ${String(o[key])}`);
    }
  }
  const normalize = o.normalize ?? false, scaleEach = o.scaleEach ?? false;
  const r = o.valueRange;
  if (r !== undefined) {
    if (
      !Array.isArray(r) || r.length !== 2 ||
      !r.every((x) => typeof x === "number" && Number.isFinite(x))
    ) {
      throw new Error(
        `${where}: valueRange must be [lo, hi], two finite numbers, got ${
          JSON.stringify(r) ?? String(r)
        }`,
      );
    }
    if (!(r[0] < r[1])) {
      throw new Error(
        `${where}: valueRange [${r[0]}, ${r[1]}] needs lo < hi (torchvision would clamp every ` +
          `pixel to one value); write valueRange: [${Math.min(...r)}, ${
            Math.max(...r)
          }] or a wider one`,
      );
    }
  }
  // torchvision ignores both without normalize=True: a silent no-op here would be a wrong picture.
  if (!normalize && (r !== undefined || scaleEach)) {
    throw new Error(
      `${where}: ${r !== undefined ? "valueRange" : "scaleEach"} only acts with normalize: true ` +
        `(torchvision ignores it otherwise); add normalize: true, or drop it`,
    );
  }
  return { nrow, padding, padValue, normalize, scaleEach, valueRange: r };
}

/**
 * torchvision's `utils.make_grid(tensor, nrow=8, padding=2, normalize=False,
 * value_range=None, scale_each=False, pad_value=0)`: a [B, C, H, W] batch, a
 * [C, H, W] or [H, W] image, or a list of [C, H, W] images, as one [C, H', W']
 * image with `nrow` images to a row. Grey images (C = 1) become 3 channels,
 * as torchvision's; a batch of one is returned as that image, unpadded.
 * Options that torchvision ignores without `normalize` (`valueRange`,
 * `scaleEach`) throw here instead.
 *
 * @example
 * ```ts
 * import { randn, utils } from "@lits/vision";
 * const slices = randn([10, 1, 32, 32]);
 * const grid = utils.makeGrid(slices, { nrow: 5, normalize: true, scaleEach: true });
 * console.log(grid.shape); // [3, 70, 172]
 * ```
 */
export function makeGrid(
  tensor: Tensor | readonly Tensor[],
  options: MakeGridOptions = {},
): Tensor {
  const where = MAKE_GRID.where;
  const o = checkOptionValues(where, checkContract(MAKE_GRID, arguments.length, options));
  const { data, shape: [b, c, h, w], tensor: like } = toBatch(where, tensor);
  if (data instanceof Int32Array) {
    if (o.normalize) {
      throw new Error(
        `${where}: normalize needs a float32 tensor, got int32 [${like.shape}] (torch refuses it ` +
          `too); write x.float()`,
      );
    }
    if (!Number.isInteger(o.padValue)) {
      throw new Error(`${where}: padValue ${o.padValue} in an int32 grid; write x.float() first`);
    }
  } else if (o.normalize) {
    const r = o.valueRange;
    if (o.scaleEach) {
      const per = c * h * w;
      for (let i = 0; i < b; i++) {
        const img = data.subarray(i * per, (i + 1) * per);
        normalizeRange(img, ...(r ?? range(where, img, `image [${i}]`)));
      }
    } else {
      normalizeRange(data, ...(r ?? range(where, data, "the batch")));
    }
  }
  const device = like.device;
  const dtype = data instanceof Int32Array ? "int32" : "float32";
  if (b === 1) return makeTensor(data, [c, h, w], { device, dtype });

  const p = o.padding;
  const cols = Math.min(o.nrow, b), rows = Math.ceil(b / cols);
  const cellH = h + p, cellW = w + p;
  const outH = cellH * rows + p, outW = cellW * cols + p;
  const out = dtype === "int32"
    ? new Int32Array(c * outH * outW)
    : new Float32Array(c * outH * outW);
  out.fill(o.padValue);
  for (let k = 0; k < b; k++) {
    const y0 = Math.floor(k / cols) * cellH + p, x0 = (k % cols) * cellW + p;
    for (let ch = 0; ch < c; ch++) {
      const src = (k * c + ch) * h * w;
      for (let y = 0; y < h; y++) {
        const row = data.subarray(src + y * w, src + (y + 1) * w);
        out.set(row, (ch * outH + y0 + y) * outW + x0);
      }
    }
  }
  return makeTensor(out, [c, outH, outW], { device, dtype });
}
