/**
 * torchvision's `utils.save_image`: a tensor (or a batch, laid out by
 * `makeGrid`) written as an 8-bit PNG, with torchvision's rounding
 * `mul(255).add_(0.5).clamp_(0, 255)` to uint8 in float32, so the file's
 * pixels are the bytes torchvision's file holds. Written synchronously, as
 * torchvision's call returns after the file is written.
 *
 * @module
 */
// deno-lint-ignore no-import-prefix -- the PNG encoder src/data/image_decode.ts pins
import { encode as encodePng } from "npm:fast-png@8";
import type { Tensor } from "../tensor/tensor.ts";
import { type CallContract, checkContract } from "../options.ts";
import { makeGrid, type MakeGridOptions } from "./make_grid.ts";

/** Options of {@link saveImage}: `makeGrid`'s, and torch's `format`. */
export interface SaveImageOptions extends MakeGridOptions {
  /** "png" (the only format written); by default the path's extension, which must be .png. */
  format?: string;
}

const SAVE_IMAGE: CallContract<SaveImageOptions> = {
  where: "utils.saveImage",
  most: 3,
  known: ["nrow", "padding", "normalize", "valueRange", "scaleEach", "padValue", "format"],
  usage: 'utils.saveImage(batch, "grid.png", { nrow: 8, normalize: true })',
};

/** PIL's mode for an [H, W, C] uint8 array, by channel count (fast-png writes these four). */
const MODES: Record<number, string> = { 1: "L", 2: "LA", 3: "RGB", 4: "RGBA" };

/**
 * The [H, W, C] bytes torchvision writes for a [C, H, W] float32 grid:
 * `grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(torch.uint8)`.
 */
function gridPixels(
  where: string,
  grid: Float32Array,
  c: number,
  h: number,
  w: number,
): Uint8Array {
  const out = new Uint8Array(c * h * w);
  for (let ch = 0; ch < c; ch++) {
    for (let i = 0; i < h * w; i++) {
      const v = grid[ch * h * w + i];
      if (Number.isNaN(v)) {
        throw new Error(
          `${where}: pixel (${Math.floor(i / w)}, ${i % w}) of channel ${ch} is NaN, which has ` +
            `no uint8 value; replace NaN first, e.g. x.nanToNum()`,
        );
      }
      const s = Math.fround(Math.fround(v * 255) + 0.5);
      out[i * c + ch] = Math.trunc(Math.min(Math.max(s, 0), 255));
    }
  }
  return out;
}

function pngPath(where: string, fp: unknown, format: unknown): string | URL {
  if (!(typeof fp === "string" || fp instanceof URL) || fp === "") {
    throw new Error(
      `${where}: the path must be a string or a URL, got ${
        typeof fp === "object" ? String(fp) : typeof fp
      }; ` +
        `write ${SAVE_IMAGE.usage}`,
    );
  }
  const path = fp instanceof URL ? fp.pathname : fp;
  if (format !== undefined) {
    if (typeof format !== "string" || format.toLowerCase() !== "png") {
      throw new Error(
        `${where}: only PNG is written, got format ${JSON.stringify(format)}; write format: "png"`,
      );
    }
    return fp;
  }
  const ext = /\.([^./\\]+)$/.exec(path)?.[1];
  if (ext?.toLowerCase() !== "png") {
    throw new Error(
      `${where}: only PNG is written, and ${JSON.stringify(path)} ` +
        (ext ? `ends in .${ext}` : "has no extension") +
        `; name the file .png (or pass format: "png")`,
    );
  }
  return fp;
}

/**
 * torchvision's `utils.save_image(tensor, fp, format=None, **make_grid_kwargs)`:
 * writes `tensor` (values in [0, 1]) as an 8-bit PNG at `path`, laying a
 * batch out with {@link makeGrid} first (`nrow`, `padding`, `normalize`, ...).
 * Pixels are torchvision's: `round(255 v)` with v clamped to [0, 1]. A grey
 * image is written as RGB (makeGrid repeats its channel, as torchvision's);
 * 2 and 4 channels as grey+alpha and RGBA (PIL's LA and RGBA).
 *
 * @example
 * ```ts
 * import { rand, utils } from "@lits/vision";
 * const path = Deno.makeTempFileSync({ suffix: ".png" });
 * utils.saveImage(rand([4, 1, 16, 16]), path, { nrow: 2 });
 * console.log(Deno.readFileSync(path).subarray(1, 4)); // the bytes of "PNG"
 * Deno.removeSync(path);
 * ```
 */
export function saveImage(
  tensor: Tensor | readonly Tensor[],
  path: string | URL,
  options: SaveImageOptions = {},
): void {
  const where = SAVE_IMAGE.where;
  const { format, ...gridOptions } = checkContract(SAVE_IMAGE, arguments.length, options);
  const file = pngPath(where, path, format);
  const grid = makeGrid(tensor, gridOptions);
  try {
    if (grid.dtype !== "float32") {
      throw new Error(
        `${where}: wants a float32 image in [0, 1], got ${grid.dtype} (torch's save_image fails ` +
          `on integer tensors too); for 0..255 pixels write x.float().div(255)`,
      );
    }
    const [c, h, w] = grid.shape;
    if (!(c in MODES)) {
      throw new Error(
        `${where}: a PNG holds 1 to 4 channels, got ${c} (grid [${grid.shape}]); pick channels ` +
          `first, e.g. x.narrow(1, 0, 3)`,
      );
    }
    const pixels = gridPixels(where, grid.toArray() as Float32Array, c, h, w);
    const png = encodePng({ width: w, height: h, data: pixels, channels: c, depth: 8 });
    try {
      Deno.writeFileSync(file, png);
    } catch (e) {
      const hint = e instanceof Deno.errors.NotFound
        ? "; create its folder first: Deno.mkdirSync(dir, { recursive: true })"
        : "";
      throw new Error(`${where}: cannot write ${file}: ${(e as Error).message}${hint}`, {
        cause: e,
      });
    }
  } finally {
    grid.dispose();
  }
}
