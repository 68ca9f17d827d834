/**
 * `deno task experiment regularization`: the course's regularisation
 * comparison, run for real; `--help` lists the flags.
 *
 * @module
 */
import { experimentMain } from "../src/train/experiment_cli.ts";

Deno.exit(await experimentMain(Deno.args));
