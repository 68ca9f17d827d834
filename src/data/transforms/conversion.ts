/**
 * torchvision's conversion transforms as a ported pipeline names them:
 * `ToTensor`, `ConvertImageDtype`, `Grayscale` and `RandomGrayscale`. Images here are already what they produce (one grey
 * float32 channel, values in [0, 1] from the library's readers), so each is
 * an identity that checks its input and says where it cannot be one.
 *
 * `ToTensor` also marks where torchvision's PIL images end: in a `Compose`,
 * a `Resize` or `RandomResizedCrop` before it without `antialias` takes
 * PIL's resampling (antialiased; nearest as PIL's, "nearest-exact"), which
 * is what torchvision 0.14 does to the PIL image `ImageFolder` loads; after
 * it (or in a pipeline without one) the tensor default, no antialias.
 *
 * @module
 */
import type { Rng } from "../rng.ts";
import type { Image } from "../types.ts";
import { fmt } from "./image.ts";
import { num, Transform } from "./transform.ts";

/**
 * torchvision's `ToTensor`: here an identity on the float32 images the
 * readers give (`ImageFolder` and `LiTSDataset` divide 8-bit pixels by 255,
 * as ToTensor does; the image is already one channel, [C, H, W] with C = 1
 * in a batch). torchvision divides only uint8 input by 255; an image whose
 * values are all whole numbers in [0, 255] with some above 1 looks like
 * undivided 8-bit pixels (e.g. `data.decodeImage`'s), and throws rather
 * than passing 0..255 on.
 *
 * In a `Compose` it also marks the end of torchvision's PIL stage: see the
 * module doc (Resize before it antialiases, as PIL's).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const T = data.transforms;
 * const t = T.compose([new T.Resize({ size: 2 }), new T.ToTensor(), new T.Normalize({ mean: 0.5, std: 0.5 })]);
 * console.log(JSON.stringify(t.transforms[0].spec)); // {"name":"Resize","size":2,"antialias":true}
 * const img = { data: new Float32Array([0, 0.5, 1, 0.5]), width: 2, height: 2 };
 * console.log([...new T.ToTensor().apply(img).data]); // [0, 0.5, 1, 0.5]
 * ```
 */
export class ToTensor extends Transform {
  /** No options (torchvision's takes none). */
  constructor(params: Record<string, never> = {}) {
    super(params, arguments.length, { keys: [], p: null, usage: "" });
  }
  /** Checks the image is not undivided 8-bit pixels, and returns it. */
  protected run(image: Image): Image {
    const d = image.data;
    let max = -Infinity, whole = true;
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      if (v > max) max = v;
      if (whole && !(v >= 0 && v <= 255 && Number.isInteger(v))) whole = false;
    }
    if (whole && max > 1) {
      throw new Error(
        `ToTensor: the image holds whole numbers up to ${max}, as undivided 8-bit pixels; ` +
          "torchvision's ToTensor divides uint8 images by 255, but images here are float32 " +
          "(ToTensor leaves them as they are, as torchvision does floats): read files with " +
          "data.ImageFolder or data.LiTSDataset (which divide by 255), or divide in your " +
          "dataset's get(i)",
      );
    }
    return image;
  }
}

/** The dtype names ConvertImageDtype takes (torch's, as strings; float32 only here). */
const FLOAT32 = ["float32", "float", "torch.float32", "torch.float"];

/**
 * torchvision's `ConvertImageDtype(torch.float)`: images here are float32,
 * so `{ dtype: "float32" }` (or "float") is an identity, as torchvision's
 * float-to-float32 conversion; any other dtype throws (a uint8 or float16
 * image would change the values or precision the pipeline sees).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.ConvertImageDtype({ dtype: "float32" });
 * const img = { data: new Float32Array([0.25]), width: 1, height: 1 };
 * console.log(t.apply(img).data[0]); // 0.25
 * ```
 */
export class ConvertImageDtype extends Transform {
  /** `dtype`: "float32" (torch's `torch.float`). */
  constructor(params: { dtype: string }) {
    super(params, arguments.length, {
      keys: ["dtype"],
      p: null,
      usage: '{ dtype: "float32" }',
    });
    const dtype = params?.dtype;
    if (!FLOAT32.includes(dtype)) {
      throw new Error(
        `ConvertImageDtype: images here are float32 (values in [0, 1] from the readers), so ` +
          `only dtype "float32" is taken (an identity, as torchvision's float to float32), got ` +
          `${fmt(dtype)}; leave the transform out, or write { dtype: "float32" }`,
      );
    }
  }
  /** The image itself. */
  protected run(image: Image): Image {
    return image;
  }
}

/** `numOutputChannels`, checked: images and batches here have one channel. */
function oneOutputChannel(name: string, v: unknown): void {
  const n = num(name, "numOutputChannels", v ?? 1, { min: 1, integer: true });
  if (n !== 1) {
    throw new Error(
      `${name}: numOutputChannels ${n}: images here have one grey channel, and batches are ` +
        "[N, 1, H, W]; write numOutputChannels: 1 (or leave it out), and build the model with " +
        "one input channel (torchvision's pretrained 3-channel stems average their weights " +
        "over the channels for grey input)",
    );
  }
}

/**
 * torchvision's `Grayscale(num_output_channels=1)`: images here are one grey
 * channel already (the readers reduce colour files as PIL's
 * `convert("L")`, which is what `Grayscale` does to `ImageFolder`'s RGB
 * images), so it is an identity; `numOutputChannels: 3` throws.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.Grayscale();
 * const img = { data: new Float32Array([0.3]), width: 1, height: 1 };
 * console.log(t.apply(img).data[0].toFixed(1)); // 0.3
 * ```
 */
export class Grayscale extends Transform {
  /** `numOutputChannels` (1, the default). */
  constructor(params: { numOutputChannels?: number } = {}) {
    super(params, arguments.length, {
      keys: ["numOutputChannels"],
      p: null,
      usage: "{ numOutputChannels: 1 }",
    });
    oneOutputChannel(this.name, params.numOutputChannels);
  }
  /** The image itself. */
  protected run(image: Image): Image {
    return image;
  }
}

/**
 * torchvision's `RandomGrayscale(p=0.1)`: on a grey image torchvision's
 * conversion returns the image, so here it is an identity whatever `p`
 * (it still draws, as torchvision's, so later draws line up).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.RandomGrayscale({ p: 0.5 });
 * const img = { data: new Float32Array([0.3]), width: 1, height: 1 };
 * console.log(t.apply(img, new data.Rng(0)).data[0].toFixed(1)); // 0.3
 * ```
 */
export class RandomGrayscale extends Transform {
  /** `p` (default 0.1, torchvision's). */
  constructor(params: { p?: number } = {}) {
    super(params, arguments.length, { keys: [], p: 0.1, usage: "{ p: 0.1 }" });
  }
  /** The image itself. */
  protected run(image: Image, _rng: Rng): Image {
    return image;
  }
}
