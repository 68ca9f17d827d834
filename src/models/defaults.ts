/**
 * A model's options checked and filled in from one table of defaults, so
 * that each option is named once: the table's keys are the options the
 * model takes.
 *
 * @module
 */
import { checkOptions } from "../options.ts";

/**
 * @internal checks `options` against the keys of `defaults` (`checkOptions`)
 * and returns them with each absent or undefined value taken from
 * `defaults`, in the table's key order.
 *
 * @example
 * ```ts
 * import { modelOptions } from "./defaults.ts";
 * const o = modelOptions("models.Tiny", { numClasses: 3 }, { inChannels: 1, numClasses: 2 }, "models.tiny({ numClasses: 3 })");
 * console.log(o); // { inChannels: 1, numClasses: 3 }
 * ```
 */
export function modelOptions<T extends object>(
  where: string,
  options: unknown,
  defaults: Required<T>,
  usage: string,
): Required<T> {
  const known = Object.keys(defaults) as (keyof T & string)[];
  const given = checkOptions<T>(where, options, known, usage);
  for (const k of known) {
    const v = given[k], d = defaults[k];
    // A flag read from a config as "false" (truthy) would add what it meant to leave out.
    if (typeof d === "boolean" && v !== undefined && typeof v !== "boolean") {
      throw new Error(`${where}: ${k} must be true or false, got ${JSON.stringify(v)}`);
    }
  }
  return Object.fromEntries(known.map((k) => [k, given[k] ?? defaults[k]])) as Required<T>;
}
