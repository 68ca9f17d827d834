/**
 * utils.benchmark against torch.utils.benchmark (fixtures from
 * scripts/make_benchmark_fixtures.py): Measurement's statistics and
 * printout and Compare's tables on the same fixed times, the Timer's block
 * sizing, warm-up and loops on a fake clock that torch's Timer also ran on,
 * thread count set and restored, tensors freed per call, and the errors.
 * No speed is asserted.
 */
import assert from "node:assert/strict";
import { getNumThreads, memoryStats, setNumThreads, tensor, utils } from "../mod.ts";
import { loadFixture } from "./helpers.ts";
import { pyCenter, pyFixed } from "../src/utils/benchmark/format.ts";

const { Compare, Measurement, Timer, selectUnit, trimSigfig } = utils.benchmark;

interface PySpec {
  stmt: string;
  setup: string;
  label: string | null;
  sub_label: string | null;
  description: string | null;
  env: string | null;
  num_threads: number;
}
interface PyMeasurement {
  number_per_run: number;
  raw_times: number[];
  task_spec: PySpec;
}
interface Stats extends PyMeasurement {
  median: number;
  mean: number;
  iqr: number;
  significant_figures: number;
  has_warnings: boolean;
  meets_confidence: Record<string, boolean>;
  title: string;
  as_row_name: string;
  repr: string;
}
interface CompareCase {
  name: string;
  measurements: PyMeasurement[];
  trim: boolean;
  colorize: "columnwise" | "rowwise" | null;
  highlight_warnings: boolean;
  text: string;
}
interface FakeCase {
  name: string;
  costs: number[];
  overhead: number;
  method: "blocked_autorange" | "timeit" | "adaptive_autorange";
  kwargs: Record<string, number>;
  number_per_run: number;
  raw_times: number[];
  stmt_calls: number;
  setup_calls: number;
  now: number;
}
interface Fixture {
  measurements: Stats[];
  merged: PyMeasurement[];
  compares: CompareCase[];
  fake_clock: FakeCase[];
  select_unit: [number, string, number][];
  trim_sigfig: [number, number, number][];
  center: [string, number, string, string][];
}

const fx = loadFixture<Fixture>("benchmark.json");

function measurement(m: PyMeasurement) {
  const s = m.task_spec;
  return new Measurement({
    numberPerRun: m.number_per_run,
    rawTimes: m.raw_times,
    taskSpec: {
      stmt: s.stmt,
      setup: s.setup,
      label: s.label,
      subLabel: s.sub_label,
      description: s.description,
      env: s.env,
      numThreads: s.num_threads,
    },
  });
}

const close = (got: number, want: number, what: string) =>
  assert.ok(Math.abs(got - want) <= 1e-15 * Math.abs(want), `${what}: ${got} vs ${want}`);

Deno.test("Measurement: torch's median, IQR, mean, significant figures, warnings, printout", () => {
  for (const c of fx.measurements) {
    const m = measurement(c);
    const what = c.repr.split("\n")[0];
    assert.equal(m.median, c.median, `${what} median`);
    assert.equal(m.iqr, c.iqr, `${what} iqr`);
    close(m.mean, c.mean, `${what} mean`);
    assert.equal(m.significantFigures, c.significant_figures, `${what} significant figures`);
    assert.equal(m.hasWarnings, c.has_warnings, `${what} warnings`);
    for (const [t, want] of Object.entries(c.meets_confidence)) {
      assert.equal(m.meetsConfidence(Number(t)), want, `${what} meetsConfidence(${t})`);
    }
    assert.equal(m.title, c.title);
    assert.equal(m.asRowName, c.as_row_name);
    const [head, ...rest] = m.toString().split("\n");
    assert.equal(head, "<utils.benchmark.Measurement object>");
    assert.equal(rest.join("\n"), c.repr, what);
    assert.equal(Deno.inspect(m), m.toString());
  }
});

Deno.test("Measurement.merge: replicates of one task, times per run", () => {
  const groups = [fx.compares.find((c) => c.name === "replicates merged")!.measurements];
  const tiny = fx.compares.find((c) => c.name === "two labels")!.measurements.slice(0, 2);
  const merged = Measurement.merge([...groups[0], ...tiny].map(measurement));
  assert.equal(merged.length, fx.merged.length);
  merged.forEach((m, i) => {
    assert.equal(m.numberPerRun, 1);
    assert.deepEqual(m.rawTimes, fx.merged[i].raw_times);
    assert.equal(m.subLabel, fx.merged[i].task_spec.sub_label);
  });
});

Deno.test("Compare: torch's tables (trimmed, coloured, highlighted, merged, missing cells)", () => {
  for (const c of fx.compares) {
    const compare = new Compare(c.measurements.map(measurement));
    if (c.trim) compare.trimSignificantFigures();
    if (c.colorize) compare.colorize(c.colorize === "rowwise");
    if (c.highlight_warnings) compare.highlightWarnings();
    assert.equal(compare.toString(), c.text, c.name);
  }
});

Deno.test("selectUnit, trimSigfig, Python's format and center: torch's values", () => {
  for (const [t, unit, scale] of fx.select_unit) {
    assert.deepEqual(selectUnit(t), [unit, scale], `selectUnit(${t})`);
  }
  for (const [x, n, want] of fx.trim_sigfig) assert.equal(trimSigfig(x, n), want, `${x}, ${n}`);
  for (const [s, w, plain, dashed] of fx.center) {
    assert.equal(pyCenter(s, w), plain);
    assert.equal(pyCenter(s, w, "-"), dashed);
  }
  // exact ties go to the even digit, as Python's '%.2f'
  assert.deepEqual([pyFixed(0.125, 2), pyFixed(2.5, 0), pyFixed(3.5, 0), pyFixed(0.375, 2)], [
    "0.12",
    "2",
    "4",
    "0.38",
  ]);
  assert.equal(pyFixed(1.005, 2), "1.00"); // 1.005 is 1.00499999... as a double
});

/** The fake clock of the fixture: moves when read and when stmt runs. */
function fakeTimer(c: FakeCase) {
  const clock = { now: 0, calls: 0, setups: 0 };
  const timer = new Timer({
    stmt: () => {
      clock.now += c.costs[clock.calls % c.costs.length];
      clock.calls++;
    },
    setup: () => {
      clock.setups++;
    },
    timer: () => (clock.now += c.overhead),
  });
  return { clock, timer };
}

Deno.test("Timer: torch's block sizes, warm-ups and loops on a fake clock", () => {
  for (const c of fx.fake_clock) {
    const { clock, timer } = fakeTimer(c);
    const k = c.kwargs;
    const m = c.method === "timeit"
      ? timer.timeit(k.number)
      : c.method === "blocked_autorange"
      ? timer.blockedAutorange({ minRunTime: k.min_run_time })
      : timer.adaptiveAutorange({
        threshold: k.threshold,
        minRunTime: k.min_run_time,
        maxRunTime: k.max_run_time,
      });
    assert.equal(m.numberPerRun, c.number_per_run, `${c.name}: block size`);
    assert.deepEqual(m.rawTimes, c.raw_times, `${c.name}: times`);
    assert.equal(clock.calls, c.stmt_calls, `${c.name}: stmt calls`);
    assert.equal(clock.setups, c.setup_calls, `${c.name}: setup calls`);
    assert.equal(clock.now, c.now, `${c.name}: clock`);
  }
});

Deno.test("Timer: callback after each block; adaptiveAutorange takes torch's positional threshold", () => {
  const c = fx.fake_clock.find((f) => f.name === "adaptive noisy")!;
  const seen: [number, number][] = [];
  const { timer } = fakeTimer(c);
  const m = timer.adaptiveAutorange({
    threshold: 0.02,
    maxRunTime: 0.5,
    callback: (n, s) => seen.push([n, s]),
  });
  assert.deepEqual(seen, m.rawTimes.map((t) => [m.numberPerRun, t]));
  const steady = fx.fake_clock.find((f) => f.name === "adaptive steady")!;
  assert.deepEqual(fakeTimer(steady).timer.adaptiveAutorange(0.1).rawTimes, steady.raw_times);
});

Deno.test("Timer: numThreads (default 1, as torch) is set while timing and restored", () => {
  const before = getNumThreads();
  setNumThreads(3);
  try {
    for (const [numThreads, want] of [[undefined, 1], [2, 2]] as const) {
      const seen = new Set<number>();
      const m = new Timer({ stmt: () => seen.add(getNumThreads()), numThreads }).timeit(10);
      assert.deepEqual([...seen], [want]);
      assert.equal(m.numThreads, want);
      assert.equal(getNumThreads(), 3);
    }
    const t = new Timer({
      stmt: () => {
        throw new Error("boom");
      },
      numThreads: 2,
    });
    assert.throws(() => t.blockedAutorange(), /boom/);
    assert.equal(getNumThreads(), 3, "restored after a throwing stmt");
  } finally {
    setNumThreads(before);
  }
});

Deno.test("Timer: tensors made by stmt are freed after each call", () => {
  const x = tensor([1, 2, 3, 4]);
  const timer = new Timer({ stmt: () => x.mul(2).add(1) });
  timer.timeit(10);
  const before = memoryStats().bytesInUse;
  timer.timeit(1000);
  assert.equal(memoryStats().bytesInUse, before);
  x.dispose();
});

Deno.test("Timer: stmt and setup text in the printout and the task", () => {
  const x = 1;
  const m = new Timer({
    stmt: () => Math.sqrt(x),
    setup: () => {
      const y = x + 1;
      Math.abs(y);
    },
    label: "sqrt",
    subLabel: "f64",
    description: "n=1",
  }).timeit(10);
  assert.equal(m.stmt, "Math.sqrt(x)");
  assert.equal(m.setup, "const y = x + 1;\nMath.abs(y);");
  assert.equal(m.title, "sqrt: f64");
  assert.equal(m.description, "n=1");
  assert.equal(new Timer().timeit(5).stmt, "pass");
});

Deno.test("Timer and Compare: errors say what to write", () => {
  const T = Timer as unknown as new (o?: unknown) => InstanceType<typeof Timer>;
  assert.throws(() => new T("x.mm(y)"), /stmt as a function .* write new utils\.benchmark\.Timer/);
  assert.throws(() => new T({ stmt: "x.mm(y)" }), /stmt must be a function; torch's stmt string/);
  assert.throws(() => new T({ stmt: () => 1, globals: { x: 1 } }), /globals: closures replace/);
  assert.throws(
    () => new T({ stmt: () => 1, num_threads: 4 }),
    /num_threads is written numThreads/,
  );
  assert.throws(() => new T({ stmt: () => 1, sub_label: "a" }), /sub_label is written subLabel/);
  assert.throws(() => new T({ stmt: () => 1, language: "cpp" }), /only JavaScript functions/);
  assert.throws(() => new T({ stmt: () => 1, numThreads: 0 }), /numThreads must be an integer/);
  assert.throws(() => new T({ stmt: (x: number) => x }), /declares 1; close over/);
  assert.throws(() => new T({ stmt: async () => {} }), /async function/);
  assert.throws(() => new T({ stmt: () => 1, timer: 5 }), /timer must be a function/);
  const returnsPromise = new Timer({ stmt: () => Promise.resolve(1) });
  assert.throws(() => returnsPromise.timeit(3), /stmt returned a Promise/);
  const t = new Timer({ stmt: () => 1 });
  const anyT = t as unknown as Record<string, (...a: unknown[]) => unknown>;
  assert.throws(() => t.timeit(0), /number must be an integer >= 1/);
  assert.throws(() => t.timeit(2.5), /number must be an integer >= 1/);
  assert.throws(
    () => anyT.blockedAutorange(1),
    /write timer\.blockedAutorange\(\{ minRunTime: 1 \}\)/,
  );
  assert.throws(
    () => anyT.blockedAutorange({ min_run_time: 1 }),
    /min_run_time is written minRunTime/,
  );
  assert.throws(
    () => t.blockedAutorange({ minRunTime: 0 }),
    /minRunTime must be a number of seconds > 0/,
  );
  assert.throws(
    () => anyT.adaptiveAutorange({ max_run_time: 1 }),
    /max_run_time is written maxRunTime/,
  );
  assert.throws(() => t.adaptiveAutorange({ threshold: -1 }), /threshold must be/);
  assert.throws(() => t.repeat(), /use timer\.blockedAutorange/);
  assert.throws(() => t.collectCallgrind(), /Callgrind/);
  const C = Compare as unknown as new (r: unknown) => unknown;
  assert.throws(() => new C([{ median: 1 }]), /expected an instance of Measurement, got Object/);
  assert.throws(() => new C(5), /expects an array of Measurements/);
  const M = Measurement as unknown as new (o: unknown) => unknown;
  assert.throws(
    () => new M({ numberPerRun: 0, rawTimes: [1], taskSpec: { stmt: "" } }),
    /numberPerRun/,
  );
});
