/**
 * torch's `get_rng_state` / `set_rng_state` for the generator behind
 * `rand`, `randn`, dropout, initialisation and the data pipeline's global
 * stream (`manualSeed` seeds it). torch's state is a uint8 tensor; here it
 * is the generator's seed and counter (it is counter-based: Philox).
 *
 * @module
 */
import { type GeneratorState, generatorState, setGeneratorState } from "./ops/random.ts";

export type { GeneratorState };

const USAGE = "const state = getRngState(); ...; setRngState(state)";

/**
 * The generator's state (torch's `get_rng_state`): `{ seed, counter }`
 * (bigints; `String(...)` them for JSON). `setRngState(state)` makes the
 * next `rand`, dropout mask or initialisation the same as when it was read.
 *
 * @example
 * ```ts
 * import { getRngState, manualSeed, rand, setRngState } from "@lits/vision";
 * manualSeed(0);
 * const state = getRngState();
 * const first = rand([3]).toArray();
 * setRngState(state);
 * console.log(rand([3]).toArray().every((v, i) => v === first[i])); // true
 * ```
 */
export function getRngState(): GeneratorState {
  if (arguments.length > 0) {
    throw new Error(`getRngState: takes no arguments; write ${USAGE}`);
  }
  return { ...generatorState() };
}

/** One field of a state as a bigint: a bigint, a safe integer, or its decimal string. */
function field(state: Record<string, unknown>, key: "seed" | "counter"): bigint {
  const v = state[key];
  if (typeof v === "bigint" && v >= 0n) return v;
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === "string" && /^\d+$/.test(v)) return BigInt(v);
  const shown = typeof v === "string" ? `the string "${v}"` : String(v);
  throw new Error(
    `setRngState: state.${key} must be a non-negative integer (a bigint, a safe integer or ` +
      `its decimal string), got ${shown}; pass what getRngState() returned`,
  );
}

/**
 * Restores a state from `getRngState()` (torch's `set_rng_state`); its
 * fields may also be numbers or decimal strings (a state read back from
 * JSON).
 *
 * @example
 * ```ts
 * import { getRngState, rand, setRngState } from "@lits/vision";
 * const saved = JSON.stringify(getRngState(), (_, v) => typeof v === "bigint" ? String(v) : v);
 * const a = rand([2]).toArray();
 * setRngState(JSON.parse(saved));
 * console.log(rand([2]).toArray().every((v, i) => v === a[i])); // true
 * ```
 */
export function setRngState(state: GeneratorState): void {
  if (arguments.length !== 1) {
    throw new Error(`setRngState: takes one state, got ${arguments.length} arguments; ${USAGE}`);
  }
  const proto = state !== null && typeof state === "object"
    ? Object.getPrototypeOf(state)
    : undefined;
  if (proto !== Object.prototype && proto !== null) {
    const got = proto === undefined ? String(state) : `a ${proto.constructor?.name ?? "object"}`;
    throw new Error(
      `setRngState: expects the { seed, counter } object that getRngState() returns (torch's ` +
        `state is a uint8 tensor; this one is not), got ${got}; write ${USAGE}`,
    );
  }
  const s = state as unknown as Record<string, unknown>;
  const unknown = Object.keys(s).filter((k) => k !== "seed" && k !== "counter");
  if (unknown.length > 0) {
    throw new Error(
      `setRngState: unknown field '${unknown[0]}' (a state is { seed, counter }); write ${USAGE}`,
    );
  }
  const seed = field(s, "seed"), counter = field(s, "counter");
  if (seed >= 1n << 64n) {
    throw new Error(`setRngState: state.seed must be below 2^64, got ${seed}`);
  }
  setGeneratorState({ seed, counter });
}
