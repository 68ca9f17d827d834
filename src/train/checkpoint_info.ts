/**
 * The checks on a checkpoint's JSON part: a checksum of its text (the
 * tensors' checksum does not cover the epoch, the learning rates or the
 * random state), and the shape of every field `--resume` reads, so that a
 * damaged or hand-made file is refused with the field's name instead of
 * failing somewhere inside the resume with a JavaScript error.
 *
 * @module
 */

/** FNV-1a of a text's UTF-8 bytes, as 8 hex digits. */
export function textChecksum(text: string): string {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) h = Math.imul(h ^ byte, 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

type Check = (v: unknown) => boolean;

const isObject: Check = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
const isCount: Check = (v) => Number.isInteger(v) && (v as number) >= 0;
const isNumber: Check = (v) => typeof v === "number";
const isString: Check = (v) => typeof v === "string";
const isDecimal: Check = (v) => typeof v === "string" && /^\d+$/.test(v);
const arrayOf = (item: Check): Check => (v) => Array.isArray(v) && v.every(item);
const shaped = (fields: Record<string, Check>): Check => (v) =>
  isObject(v) && Object.entries(fields).every(([k, c]) => c((v as Record<string, unknown>)[k]));

/** What each field of a checkpoint's JSON must be, for `--resume` to read it. */
const FIELDS: Record<string, [Check, string]> = {
  model: [shaped({ name: isString, options: isObject }), "a model spec { name, options }"],
  epoch: [isCount, "a count of epochs"],
  step: [isCount, "a count of steps"],
  optimizer: [isString, "an optimizer's class name"],
  paramGroups: [arrayOf(shaped({ params: arrayOf(isCount) })), "optimizer groups with params"],
  paramState: [
    arrayOf(shaped({ index: isCount, step: isCount, tensors: arrayOf(isString) })),
    "per-parameter { index, step, tensors }",
  ],
  scheduler: [(v) => v === null || isObject(v), "a schedule's state or null"],
  rng: [shaped({ seed: isDecimal, counter: isDecimal }), "{ seed, counter } as decimal strings"],
  loader: [shaped({ epoch: isCount, seed: isCount }), "{ epoch, seed }"],
  trainer: [
    shaped({
      history: Array.isArray,
      bestValLoss: isNumber,
      bestEpoch: isCount,
      badValidations: isCount,
      seconds: isNumber,
    }),
    "the trainer's { history, bestValLoss, bestEpoch, badValidations, seconds }",
  ],
  config: [isObject, "the run's configuration"],
  checksum: [isString, "the tensors' checksum"],
};

/** The first field of a checkpoint's parsed JSON that is not what `--resume` reads, or null. */
export function infoProblem(info: unknown): string | null {
  if (!isObject(info)) return `its metadata is ${JSON.stringify(info)}, not an object`;
  for (const [key, [check, what]] of Object.entries(FIELDS)) {
    const value = (info as Record<string, unknown>)[key];
    if (!check(value)) {
      return `metadata field '${key}' should be ${what}, got ${JSON.stringify(value)}`;
    }
  }
  const data = (info as Record<string, unknown>).data;
  if (data !== undefined && !shaped({ splits: isString })(data)) {
    return `metadata field 'data' should be { splits } (the data's checksum), got ${
      JSON.stringify(data)
    }`;
  }
  return null;
}
