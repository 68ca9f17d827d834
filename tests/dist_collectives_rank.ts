/**
 * One rank of tests/dist_collectives_test.ts (run under mpirun -np 2):
 * all-reduce and broadcast on odd sizes and several buckets in flight,
 * integer-valued (exact) and random (within 1e-6), then the errors of bad
 * input. Prints `RESULT {...}` per check.
 */
import { distributed, tensor, zeros } from "../mod.ts";
import { distLib } from "../src/dist/native.ts";

const SIZES = [0, 1, 7, 1023, 65_537, 3_000_001];

function fill(n: number, rank: number, integer: boolean): Float32Array {
  const a = new Float32Array(n);
  let s = (rank + 1) * 2_654_435_761;
  for (let i = 0; i < n; i++) {
    if (integer) a[i] = (i % 4099) - 2000 + rank * 7;
    else {
      s = (Math.imul(s, 1_103_515_245) + 12_345) >>> 0;
      a[i] = s / 4_294_967_296;
    }
  }
  return a;
}

function report(name: string, got: Float32Array, want: Float64Array, tol: number): void {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  console.log(`RESULT ${JSON.stringify({ name, rank, n: want.length, worst, ok: worst <= tol })}`);
}

distributed.initProcessGroup({ timeout: 60_000 });
const rank = distributed.getRank(), world = distributed.getWorldSize();

for (const integer of [true, false]) {
  for (const op of ["sum", "avg"] as const) {
    for (const n of SIZES) {
      const want = new Float64Array(n);
      for (let r = 0; r < world; r++) {
        const a = fill(n, r, integer);
        for (let i = 0; i < n; i++) want[i] += a[i];
      }
      if (op === "avg") { for (let i = 0; i < n; i++) want[i] /= world; }
      const t = n === 0 ? zeros([0]) : tensor(fill(n, rank, integer));
      distributed.allReduce(t, { op });
      report(
        `allReduce ${op} ${integer ? "int" : "rand"}`,
        t.toArray() as Float32Array,
        want,
        integer ? 0 : 1e-6,
      );
      t.dispose();
    }
  }
}

// Several buckets in flight at once, as DistributedDataParallel starts them.
const lib = distLib();
const buckets = SIZES.filter((n) => n > 0).map((n) => tensor(fill(n, rank, true)));
const handles = buckets.map((b) => {
  const h = new Int32Array(1);
  if (lib.lits_dist_all_reduce_start_f32(b.ptr, b.numel(), 0, h) !== 0) throw new Error("start");
  return h[0];
});
for (const h of handles.reverse()) if (lib.lits_dist_wait(h) !== 0) throw new Error("wait");
for (const b of buckets) {
  const want = new Float64Array(b.numel());
  for (let r = 0; r < world; r++) fill(b.numel(), r, true).forEach((v, i) => want[i] += v);
  report("buckets in flight", b.toArray() as Float32Array, want, 0);
}

for (const n of SIZES) {
  for (let root = 0; root < world; root++) {
    const t = n === 0 ? zeros([0]) : tensor(fill(n, rank, false));
    distributed.broadcast(t, root);
    report(
      `broadcast from ${root}`,
      t.toArray() as Float32Array,
      Float64Array.from(fill(n, root, false)),
      0,
    );
  }
}
const ints = tensor([rank, rank + 1], undefined, { dtype: "int32" });
distributed.broadcast(ints, { src: 1 });
console.log(
  `RESULT ${
    JSON.stringify({ name: "broadcast int32", rank, ok: ints.toList()!.toString() === "1,2" })
  }`,
);

// Bad input: an Error on the calling rank before any rank waits.
const errors: string[] = [];
const tryIt = (f: () => void) => {
  try {
    f();
    errors.push("no error");
  } catch (e) {
    errors.push((e as Error).message);
  }
};
tryIt(() => distributed.allReduce(ints));
tryIt(() => distributed.allReduce(tensor([[1, 2], [3, 4]]).transpose(0, 1)));
tryIt(() => distributed.allReduce(tensor([1]), { op: "max" as "sum" }));
tryIt(() => distributed.broadcast(tensor([1]), world));
tryIt(() => distributed.initProcessGroup());
// The native layer refuses bad arguments with a status, never a crash.
const raw = [
  lib.lits_dist_all_reduce_f32(null, -1, 0),
  lib.lits_dist_all_reduce_f32(null, 5, 0),
  lib.lits_dist_all_reduce_f32(null, 0, 9),
  lib.lits_dist_broadcast(null, 4, 0),
  lib.lits_dist_wait(77),
  lib.lits_dist_wait(-1),
];
console.log(`RESULT ${JSON.stringify({ name: "errors", rank, errors, raw })}`);
distributed.barrier();
distributed.destroyProcessGroup();
