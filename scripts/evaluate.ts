/**
 * `deno task evaluate --checkpoint FILE [--data DIR] [--split test]`:
 * evaluates a trained model and writes a report page. `--help` lists the flags.
 *
 * @module
 */
import { evaluateMain } from "../src/train/evaluate_cli.ts";

Deno.exit(await evaluateMain(Deno.args));
