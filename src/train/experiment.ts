/**
 * Experiments: several training runs that differ in one respect, on the
 * same data with the same seed, compared in one page. `regularization` is
 * the course's comparison: the small CNN without regularisation, with L2
 * (Adam's weight decay), with dropout, with both, with batch norm, and with
 * the `ct` augmentations.
 *
 * @module
 */
import { basename, join } from "node:path";
import { existsSync } from "node:fs";
import { checkConfig, DEFAULTS, type TrainConfig } from "./config.ts";
import { UsageError } from "./errors.ts";
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

/** How strong the regularisers of the `regularization` experiment are. */
export interface RegularizationStrengths {
  /** Adam's weight decay (L2) of the L2 arms. */
  weightDecay: number;
  /** Dropout probability of the dropout arms. */
  dropout: number;
}

/** The course's strengths: weight decay 1e-5, dropout 0.5. */
export const REGULARIZATION_STRENGTHS: Readonly<RegularizationStrengths> = {
  weightDecay: 1e-5,
  dropout: 0.5,
};

/** 1e-5 rather than 0.00001 in a label. */
const short = (x: number) => (x !== 0 && x < 1e-3 ? x.toExponential() : String(x));

/**
 * The regularisation arms at the given strengths; the base has every
 * regulariser off.
 */
function regularization(s: RegularizationStrengths): Variant[] {
  const l2 = `L2 (Adam weight decay ${short(s.weightDecay)})`;
  return [
    { name: "none", label: "no regularisation", overrides: {} },
    { name: "l2", label: l2, overrides: { weightDecay: s.weightDecay } },
    { name: "dropout", label: `dropout ${s.dropout}`, overrides: { dropout: s.dropout } },
    {
      name: "l2-dropout",
      label: `L2 + dropout (weight decay ${short(s.weightDecay)}, p ${s.dropout})`,
      overrides: { weightDecay: s.weightDecay, dropout: s.dropout },
    },
    { name: "batchnorm", label: "batch norm", overrides: { batchNorm: true } },
    { name: "augment", label: "ct augmentation", overrides: { augment: "ct" } },
  ];
}

/** The regularisation arms at the course's strengths (`REGULARIZATION_STRENGTHS`). */
export const REGULARIZATION: readonly Variant[] = regularization(REGULARIZATION_STRENGTHS);

/**
 * The experiments `deno task experiment NAME` knows: each builds its arms
 * from the regulariser strengths (`--weight-decay`, `--dropout`).
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * const arms = train.EXPERIMENTS.regularization({ weightDecay: 1e-4, dropout: 0.3 });
 * console.log(arms[3].overrides); // { weightDecay: 0.0001, dropout: 0.3 }
 * ```
 */
export const EXPERIMENTS: Readonly<
  Record<string, (strengths: RegularizationStrengths) => readonly Variant[]>
> = { regularization };

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
    globalPool: "none",
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
 * The checked configuration of every arm: the base with the arm's
 * overrides, run folder `<out>/<name>/`. A bad arm (dropout on a model
 * without it) fails here, before the first arm trains.
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * const arms = train.EXPERIMENTS.regularization({ weightDecay: 1e-5, dropout: 0.5 });
 * const configs = train.experimentConfigs(arms, train.experimentBase(), "/tmp/exp");
 * console.log(configs[1].weightDecay, configs[2].dropout, configs[2].out); // 0.00001 0.5 "/tmp/exp/dropout"
 * ```
 */
export function experimentConfigs(
  variants: readonly Variant[],
  base: TrainConfig,
  out: string,
): TrainConfig[] {
  return variants.map((v) => {
    try {
      return checkConfig({ ...base, ...v.overrides, out: join(out, v.name) });
    } catch (e) {
      throw new UsageError(`experiment arm ${v.name} (${v.label}): ${(e as Error).message}`);
    }
  });
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
  options: { resume?: boolean } = {},
): Promise<VariantResult[]> {
  const results: VariantResult[] = [];
  const configs = experimentConfigs(variants, base, out);
  // Before the first variant trains: a later one would refuse its folder.
  const taken = configs.filter((c) => existsSync(join(c.out, "config.json")));
  if (taken.length > 0 && !options.resume) {
    const arms = taken.map((c) => basename(c.out)).join(", ");
    const finished = existsSync(join(out, "results.md"));
    throw new UsageError(
      finished
        ? `${out} already holds a finished experiment (${arms}); choose another --out`
        : `${out} holds an interrupted experiment (arms started: ${arms}); continue it with ` +
          "--resume (the same flags), or choose another --out",
    );
  }
  for (const [i, variant] of variants.entries()) {
    const config = configs[i];
    // An arm begun before the interruption continues from its checkpoint
    // (a finished one is tested again); the others start.
    const resume = taken.includes(config);
    log(`\n== ${variant.label} (${variant.name})${resume ? ", resumed" : ""}`);
    const result = await fit(config, {
      resume,
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
