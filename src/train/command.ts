/**
 * The one shape of the three commands (`deno task train`, `evaluate`,
 * `experiment`): a table of flags drives the parser (`node:util` parseArgs,
 * strict), the conversion and range checks of the values, and the `--help`
 * text, so a flag is added in one line and the three cannot drift apart.
 * Every bad command line becomes a `UsageError` (exit code 2) that names
 * the flag.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { UsageError } from "./errors.ts";

/** What a flag's value is: text, an integer, any number, or on/off. */
export type FlagKind = "string" | "int" | "number" | "boolean";

/** One flag of a command. */
export interface FlagSpec {
  /** Value kind. */
  kind: FlagKind;
  /** The `--help` line. */
  help: string;
  /** The value's name in `--help` (default: N for integers, X for numbers, VALUE for text). */
  value?: string;
  /** The value when the flag is absent; also shown in `--help`. */
  default?: string | number;
  /** What `--help` shows as the default when it needs words. */
  shownDefault?: string;
  /** The values allowed (text flags). */
  choices?: readonly string[];
  /** The smallest value allowed (number flags). */
  min?: number;
  /** Any other rule: what is wrong with the value, or null when it is fine. */
  check?: (value: number) => string | null;
  /** The command cannot run without it (unless `--help` is given). */
  required?: boolean;
  /** `--no-NAME` turns it off (boolean flags); `--help` shows `--[no-]NAME`. */
  negatable?: boolean;
}

/** A command: its usage line, flags, an optional positional argument, and `--help`'s last lines. */
export interface CommandSpec {
  /** The first lines of `--help`. */
  usage: string;
  /** The flags, in the order `--help` lists them (`--help` itself is added). */
  flags: Readonly<Record<string, FlagSpec>>;
  /** One required positional argument (the experiment's name), by what it is and its choices. */
  positional?: { what: string; choices: readonly string[] };
  /** One or more free positional arguments (the files of `deno task predict`), by what they are. */
  inputs?: { what: string };
  /** The last lines of `--help`. */
  footer?: string;
}

/** A flag's value after parsing: number flags converted, absent ones undefined or their default. */
export type FlagValue = string | number | boolean | undefined;

/** What a command line asks for. */
export type ParsedCommand =
  | { help: true }
  | {
    help: false;
    /** The values by flag name (defaults filled in). */
    values: Record<string, FlagValue>;
    /** The flags given on the command line. */
    given: Set<string>;
    /** The positional argument (when the command has one). */
    positional?: string;
    /** The free positional arguments (when the command takes `inputs`). */
    inputs: string[];
  };

/** A command line that asks for a run rather than for `--help`. */
export type ParsedRun = Extract<ParsedCommand, { help: false }>;

const HELP: FlagSpec = { kind: "boolean", help: "show this help" };

/** A command built from `spec`: `parse(args)`, `help()` and `run(args, body)`. */
export class Command {
  readonly flags: Readonly<Record<string, FlagSpec>>;

  constructor(readonly spec: CommandSpec) {
    this.flags = { ...spec.flags, help: HELP };
  }

  /**
   * Parses and checks `args`. Unknown flags (with a "did you mean"),
   * missing values, bad numbers, values outside `choices` or `min`, a
   * missing required flag or positional: a `UsageError` naming the flag.
   */
  parse(args: readonly string[]): ParsedCommand {
    const options = Object.fromEntries(
      Object.entries(this.flags).map(([name, f]) => [
        name,
        { type: f.kind === "boolean" ? "boolean" as const : "string" as const },
      ]),
    );
    let parsed;
    try {
      parsed = parseArgs({
        args: this.#joinNegativeValues(args),
        options,
        strict: true,
        allowPositionals: this.spec.positional !== undefined || this.spec.inputs !== undefined,
        allowNegative: Object.values(this.flags).some((f) => f.negatable),
      });
    } catch (e) {
      throw this.#parseError(e as Error & { code?: string });
    }
    if (parsed.values.help === true) return { help: true };
    const values: Record<string, FlagValue> = {};
    const given = new Set<string>();
    for (const [name, flag] of Object.entries(this.flags)) {
      if (name === "help") continue;
      const raw = parsed.values[name];
      if (raw === undefined) {
        if (flag.required) {
          throw new UsageError(`--${name} ${flag.value ?? "VALUE"} is required; see --help`);
        }
        values[name] = flag.default;
        continue;
      }
      given.add(name);
      values[name] = typeof raw === "boolean" ? raw : checkValue(name, flag, String(raw));
    }
    if (this.spec.inputs && parsed.positionals.length === 0) {
      throw new UsageError(`give at least one ${this.spec.inputs.what}; see --help`);
    }
    return {
      help: false,
      values,
      given,
      positional: this.spec.inputs ? undefined : this.#positional(parsed.positionals),
      inputs: this.spec.inputs ? parsed.positionals : [],
    };
  }

  /**
   * A command's main: prints `--help` and answers 0, or runs `body` on the
   * parsed line and answers its exit code (0 when it returns none). A bad
   * command line or a failed body rejects, so each main ends in one
   * `.catch(reportError)` and all of them exit alike.
   */
  async run(
    args: readonly string[],
    body: (parsed: ParsedRun) => Promise<number | void>,
  ): Promise<number> {
    const parsed = this.parse(args);
    if (parsed.help) {
      console.log(this.help());
      return 0;
    }
    return (await body(parsed)) ?? 0;
  }

  /** The `--help` text: usage, every flag with its default, footer. */
  help(): string {
    const lines = Object.entries(this.flags).map(([name, f]) => {
      const value = f.kind === "boolean" ? "" : ` ${f.value ?? placeholder(f.kind)}`;
      const head = `  --${f.negatable ? "[no-]" : ""}${name}${value}`;
      const shown = f.shownDefault ?? (f.default === undefined ? undefined : String(f.default));
      const tail = f.required ? " (required)" : shown === undefined ? "" : ` (default: ${shown})`;
      return `${head.padEnd(28)} ${f.help}${tail}`;
    });
    const footer = this.spec.footer ? ["", this.spec.footer] : [];
    return [this.spec.usage, "", ...lines, ...footer].join("\n");
  }

  #positional(positionals: string[]): string | undefined {
    const p = this.spec.positional;
    if (!p) return undefined;
    if (positionals.length !== 1 || !p.choices.includes(positionals[0])) {
      throw new UsageError(
        `give one ${p.what}: ${p.choices.join(", ")} ` +
          `(got ${positionals.length ? positionals.join(" ") : "none"}); see --help`,
      );
    }
    return positionals[0];
  }

  /**
   * A negative number after a value flag (`--lr -1`) is its value: parseArgs
   * would call it ambiguous, and the range check then says what is wrong.
   */
  #joinNegativeValues(args: readonly string[]): string[] {
    const out: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const flag = Object.hasOwn(this.flags, args[i].slice(2))
        ? this.flags[args[i].slice(2)]
        : null;
      if (
        args[i].startsWith("--") && flag && flag.kind !== "boolean" && i + 1 < args.length &&
        /^-(\d|\.\d|inf|nan)/i.test(args[i + 1])
      ) {
        out.push(`${args[i]}=${args[++i]}`);
      } else out.push(args[i]);
    }
    return out;
  }

  #parseError(err: Error & { code?: string }): UsageError {
    if (err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      const arg = err.message.match(/'([^']+)'/)?.[1] ?? "?";
      const name = arg.replace(/^-+/, "").split("=")[0];
      const [near] = Object.keys(this.flags)
        .map((f) => ({ f, d: distance(f, name) }))
        .filter(({ d }) => d <= 2)
        .sort((a, b) => a.d - b.d); // stable: the table's order breaks ties
      const habit = Object.hasOwn(this.flags, "precision") && MIXED_PRECISION_FLAGS.has(name);
      const hint = habit
        ? " (mixed precision is --precision bf16)"
        : near
        ? ` (did you mean --${near.f}?)`
        : "";
      return new UsageError(`unknown flag ${arg.split("=")[0]}${hint}; see --help`);
    }
    if (err.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      // "--precision --epochs 1" (a flag before another, or last, has no value) or a
      // switch given one ("--balanced=yes").
      const name = err.message.match(/'--([^' ]+)/)?.[1] ?? "?";
      const flag = Object.hasOwn(this.flags, name) ? this.flags[name] : null;
      if (flag?.kind === "boolean") {
        return new UsageError(`--${name} takes no value: write --${name}, or leave it out`);
      }
      const choices = flag?.choices ? ` (${flag.choices.join(", ")})` : "";
      return new UsageError(`--${name} needs a value${choices}; see --help`);
    }
    if (err.code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
      return new UsageError(`${err.message.split(".")[0]}; flags take the form --name value`);
    }
    return new UsageError(`${err.message.split("\n")[0]}; see --help`);
  }
}

function placeholder(kind: FlagKind): string {
  return kind === "int" ? "N" : kind === "number" ? "X" : "VALUE";
}

/** Converts and checks one value; the messages name the flag and the rule. */
function checkValue(name: string, flag: FlagSpec, raw: string): string | number {
  const fail = (value: unknown, rule: string): never => {
    throw new UsageError(`--${name} ${JSON.stringify(value)}: ${rule}`);
  };
  if (flag.kind === "string") {
    // --out "" used to mean "not given" and wrote into the current folder.
    if (raw.trim() === "") fail(raw, "needs a value; see --help");
    if (flag.choices && !flag.choices.includes(raw)) {
      fail(raw, `must be one of ${flag.choices.join(", ")}`);
    }
    return raw;
  }
  const v = Number(raw);
  if (raw.trim() === "" || Number.isNaN(v)) fail(raw, "not a number");
  if (flag.kind === "int" && !Number.isInteger(v)) fail(raw, "must be an integer");
  if (flag.min !== undefined && !(v >= flag.min)) {
    fail(v, `must be ${flag.kind === "int" ? "an integer" : "a number"} >= ${flag.min}`);
  }
  const broken = flag.check?.(v);
  if (broken) fail(v, broken);
  return v;
}

/** Flags other tools turn mixed precision on with (PyTorch scripts' --amp, Lightning's --precision 16). */
const MIXED_PRECISION_FLAGS = new Set([
  "amp",
  "bf16",
  "bfloat16",
  "fp16",
  "half",
  "autocast",
  "mixed-precision",
]);

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]++;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}
