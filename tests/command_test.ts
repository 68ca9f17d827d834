/**
 * The command helper behind `deno task train`, `evaluate` and `experiment`:
 * one table drives parsing, checks and `--help`; every bad command line is
 * a `UsageError` (exit code 2) naming the flag.
 */
import assert from "node:assert/strict";
import { train } from "../mod.ts";
import { Command } from "../src/train/command.ts";

const command = new Command({
  usage: "deno task demo NAME [flags]: a demo",
  positional: { what: "demo name", choices: ["a", "b"] },
  flags: {
    file: { kind: "string", value: "FILE", required: true, help: "input" },
    size: { kind: "int", min: 1, default: 8, help: "side" },
    rate: { kind: "number", help: "rate", check: (v) => (v !== 0 ? null : "must not be 0") },
    mode: { kind: "string", value: "NAME", choices: ["x", "y"], default: "x", help: "x or y" },
    fast: { kind: "boolean", negatable: true, help: "go fast", shownDefault: "on" },
  },
  footer: "Exit codes: 0 done, 2 bad command line.",
});

Deno.test("command: values converted, defaults filled in, the given flags known", () => {
  const p = command.parse(["a", "--file", "f.txt", "--rate", "-0.5e-1", "--no-fast"]);
  assert.ok(!p.help);
  assert.deepEqual(p.values, { file: "f.txt", size: 8, rate: -0.05, mode: "x", fast: false });
  assert.deepEqual([...p.given], ["file", "rate", "fast"]);
  assert.equal(p.positional, "a");
  assert.deepEqual(command.parse(["--help"]), { help: true }); // nothing else is required then
});

Deno.test("command: each bad command line names the flag and the rule, exit code 2", () => {
  const cases: [string[], RegExp][] = [
    [["a"], /^--file FILE is required; see --help$/],
    [["a", "--file"], /^--file needs a value; see --help$/],
    [["a", "--mode", "--file", "f"], /^--mode needs a value \(x, y\); see --help$/],
    [
      ["a", "--file", "f", "--sise", "3"],
      /^unknown flag --sise \(did you mean --size\?\); see --help$/,
    ],
    [["a", "--file", "f", "--size", "0"], /^--size 0: must be an integer >= 1$/],
    [["a", "--file", "f", "--size", "2.5"], /^--size "2\.5": must be an integer$/],
    [["a", "--file", "f", "--rate", "abc"], /^--rate "abc": not a number$/],
    [["a", "--file", "f", "--rate", "0"], /^--rate 0: must not be 0$/],
    [["a", "--file", "f", "--mode", "z"], /^--mode "z": must be one of x, y$/],
    [["a", "--file", "f", "--fast=yes"], /^--fast takes no value: write --fast, or leave it out$/],
    [["--file", "f"], /^give one demo name: a, b \(got none\); see --help$/],
    [["c", "--file", "f"], /^give one demo name: a, b \(got c\); see --help$/],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => command.parse(args), (e: Error) => {
      assert.ok(e instanceof train.UsageError, args.join(" "));
      assert.equal((e as train.UsageError).exitCode, 2);
      assert.match(e.message, message, args.join(" "));
      return true;
    });
  }
  const noPositionals = new Command({ usage: "u", flags: {} });
  assert.throws(
    () => noPositionals.parse(["extra"]),
    /^UsageError: Unexpected argument 'extra'; flags take the form --name value$/,
  );
});

Deno.test("command: --help lists usage, every flag with its value, default or (required), footer", () => {
  const lines = command.help().split("\n");
  assert.equal(lines[0], "deno task demo NAME [flags]: a demo");
  assert.match(lines[2], /^ {2}--file FILE {16}input \(required\)$/);
  assert.match(lines[3], /^ {2}--size N +side \(default: 8\)$/);
  assert.match(lines[4], /^ {2}--rate X +rate$/);
  assert.match(lines[5], /^ {2}--mode NAME +x or y \(default: x\)$/);
  assert.match(lines[6], /^ {2}--\[no-\]fast +go fast \(default: on\)$/);
  assert.match(lines[7], /^ {2}--help +show this help$/);
  assert.equal(lines.at(-1), "Exit codes: 0 done, 2 bad command line.");
});

Deno.test("the three commands take their model names from the registry", async () => {
  const { models } = await import("../mod.ts");
  assert.deepEqual(train.MODEL_NAMES, models.names());
  assert.match(train.trainHelp(), new RegExp(`--model NAME +${models.names().join(", ")}`));
});
