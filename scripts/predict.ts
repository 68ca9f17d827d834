/**
 * `deno task predict --checkpoint FILE [--out DIR] INPUT...`: classifies CT
 * slices from PNG/JPEG files, NIfTI volumes and DICOM files or series, with
 * Grad-CAM heat maps. `--help` lists the flags.
 *
 * @module
 */
import { predictMain } from "../src/predict/cli.ts";

Deno.exit(await predictMain(Deno.args));
