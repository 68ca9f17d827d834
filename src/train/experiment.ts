/**
 * Experiments: several training runs that differ in one respect, on the
 * same data with the same seed, compared in one page. `regularization` is
 * the course's comparison: the small CNN without regularisation, with L2
 * (Adam's weight decay), with dropout, with both, with batch norm, and with
 * the `ct` augmentations.
 *
 * @module
 */
import { join } from "node:path";
import { DEFAULTS, type TrainConfig } from "./config.ts";
import { fit, type FitResult } from "./trainer.ts";

/** One arm of an experiment. */
export interface Variant {
  /** Short name (its run folder). */
  name: string;
  /** What the plot legend and the tables say. */
  label: string;
  /** How its configuration differs from the experiment's base. */
  overrides: Partial<TrainConfig>;
}

/** The regularisation arms; the base has every regulariser off. */
export const REGULARIZATION: readonly Variant[] = [
  { name: "none", label: "no regularisation", overrides: {} },
  { name: "l2", label: "L2 (Adam weight decay 1e-4)", overrides: { weightDecay: 1e-4 } },
  { name: "dropout", label: "dropout 0.5", overrides: { dropout: 0.5 } },
  {
    name: "l2-dropout",
    label: "L2 + dropout",
    overrides: { weightDecay: 1e-4, dropout: 0.5 },
  },
  { name: "batchnorm", label: "batch norm", overrides: { batchNorm: true } },
  { name: "augment", label: "ct augmentation", overrides: { augment: "ct" } },
];

/** The experiments `deno task experiment NAME` knows. */
export const EXPERIMENTS: Readonly<Record<string, readonly Variant[]>> = {
  regularization: REGULARIZATION,
};

/**
 * The base of the regularisation comparison: the small CNN with Adam at a
 * constant rate, no regulariser, plain shuffling (class-balanced sampling
 * repeats the rare lesion slices, which is a regulariser's business here).
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * const base = train.experimentBase({ epochs: 3 });
 * console.log(base.epochs, base.dropout, base.augment); // 3 0 "none"
 * ```
 */
export function experimentBase(overrides: Partial<TrainConfig> = {}): TrainConfig {
  return {
    ...DEFAULTS,
    model: "simple",
    optimizer: "adam",
    lr: 1e-3,
    scheduler: "none",
    weightDecay: 0,
    dropout: 0,
    batchNorm: false,
    augment: "none",
    balanced: false,
    earlyStopping: 0,
    epochs: 10,
    imageSize: 64,
    ...overrides,
  };
}

/** One finished arm. */
export interface VariantResult {
  /** The arm. */
  variant: Variant;
  /** Its run. */
  result: FitResult;
}

/**
 * Runs every arm of `variants` one after another into `<out>/<name>/`.
 *
 * @example
 * ```ts
 * import { data, train } from "@lits/vision";
 * const root = await Deno.makeTempDir();
 * await data.synthesizeLiTS({ out: root, preset: "easy", patients: 4, slicesPerPatient: 8 });
 * const out = await Deno.makeTempDir();
 * const base = train.experimentBase({ data: root, epochs: 1, imageSize: 16 });
 * const results = await train.runExperiment(train.REGULARIZATION.slice(0, 2), base, out);
 * console.log(results.map((r) => r.variant.name)); // ["none", "l2"]
 * ```
 */
export async function runExperiment(
  variants: readonly Variant[],
  base: TrainConfig,
  out: string,
  log: (line: string) => void = () => {},
): Promise<VariantResult[]> {
  const results: VariantResult[] = [];
  for (const variant of variants) {
    const config: TrainConfig = { ...base, ...variant.overrides, out: join(out, variant.name) };
    log(`\n== ${variant.label} (${variant.name})`);
    const result = await fit(config, {
      report: false,
      log: (line) => line.startsWith("epoch") && log(`  ${line}`),
    });
    const t = result.test;
    log(
      `  test accuracy ${(100 * t.accuracy).toFixed(1)}%, macro-F1 ${t.macroF1.toFixed(3)} ` +
        `(${result.seconds.toFixed(0)} s)`,
    );
    results.push({ variant, result });
  }
  return results;
}
