/**
 * The library's two random streams, pinned to the numbers they give today:
 * `data.Rng` (xoshiro128**, augmentation and sampling: a seed must give the
 * same augmentation in every version) and the synthetic generator's sfc32
 * (a seed must give the same patients). synthetic_test.ts checks that a
 * seed is deterministic within one run; this checks it against the values
 * recorded when the test was written, so a change to either generator (or
 * a merge of the two) shows here unless it is bit-identical.
 */
import assert from "node:assert/strict";
import { data, manualSeed } from "../mod.ts";
import { globalRng } from "../src/data/rng.ts";
import { simulatePatient } from "../src/data/synthetic/patient.ts";
import { resolveSettings } from "../src/data/synthetic/presets.ts";
import { Rng as SynthRng } from "../src/data/synthetic/rng.ts";

/** FNV-1a over bytes, continuing from `h`. */
function fnv1a(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

Deno.test("data.Rng: forSample, normal, fillNormal and the global stream give the recorded values", () => {
  const r = data.Rng.forSample(1, 2, 3);
  const words = Array.from({ length: 4 }, () => r.nextUint32());
  assert.deepEqual(words, [302051640, 2699832603, 3986407330, 429427965]);
  assert.equal(r.normal(), 0.9465874297385489);
  assert.deepEqual(
    [...r.fillNormal(new Float32Array(3), 0, 1)],
    [0.07609148323535919, -0.6242156624794006, -0.36558347940444946],
  );
  manualSeed(5);
  assert.equal(globalRng().nextUint32(), 905719787);
});

Deno.test("synthetic generator: sfc32 draws and two whole patients give the recorded values", () => {
  const s = new SynthRng(42, 3);
  const words = Array.from({ length: 4 }, () => s.nextU32());
  assert.deepEqual(words, [2890135576, 118563620, 59284951, 1348863097]);
  assert.equal(s.normal(), 1.4479639337528898);
  assert.deepEqual(
    [...s.fillNormal(new Float32Array(3), 2, 1)],
    [0.029890067875385284, 1.77420175075531, -1.895825743675232],
  );
  const expected = { easy: ["01220", 0x5d573cfc], realistic: ["00020", 0x6e8b061d] } as const;
  for (const [preset, [classes, hash]] of Object.entries(expected)) {
    const settings = resolveSettings({
      ...data.SYNTH_PRESETS[preset as keyof typeof expected],
      slicesPerPatient: 6,
    });
    const slices = simulatePatient(3, 7, settings);
    assert.equal(slices.map((x) => +x.liver + +x.lesion).join(""), classes, preset);
    const h = slices.reduce((acc, x) => fnv1a(x.pixels, acc), 0x811c9dc5);
    assert.equal(h, hash, `${preset}: pixels of patient 3, seed 7`);
  }
});
