/**
 * `deno task train`: trains a CT slice classifier and writes a run folder.
 * `deno task train --help` lists the flags.
 *
 * @module
 */
import { trainMain } from "../src/train/cli.ts";

Deno.exit(await trainMain(Deno.args));
