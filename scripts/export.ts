/**
 * `deno task export --checkpoint FILE [--format onnx] [--out FILE]`: writes
 * a trained model as an ONNX file. `--help` lists the flags.
 *
 * @module
 */
import { exportMain } from "../src/onnx/cli.ts";

Deno.exit(await exportMain(Deno.args));
