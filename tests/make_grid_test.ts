/**
 * utils.makeGrid and utils.saveImage against torchvision 0.14's make_grid
 * and save_image: grids for batches, single images, lists, normalize over the
 * batch, per image and over a valueRange; and the pixels PIL reads back from
 * save_image's PNG (rounding boundaries, values outside [0, 1], LA and RGBA).
 * Bad input throws an Error that says what to write.
 * Fixture: tests/fixtures/make_grid.json (scripts/make_grid_fixtures.py).
 */
import assert from "node:assert/strict";
// deno-lint-ignore no-import-prefix -- the decoder src/data/image_decode.ts pins
import { decode as decodePng } from "npm:fast-png@8";
import { rand, randn, type Tensor, tensor, utils } from "../mod.ts";
import { fromStored, loadFixture, messageOf, type Stored, testDevice } from "./helpers.ts";

interface GridCase {
  name: string;
  input: Stored | Stored[];
  list: boolean;
  options: utils.MakeGridOptions;
  output: Stored;
}
interface SaveCase {
  name: string;
  input: Stored;
  options: utils.SaveImageOptions;
  mode: string;
  pixels: { shape: number[]; data: number[] };
}
const fx = loadFixture<{ grids: GridCase[]; saves: SaveCase[] }>("make_grid.json");

function inputOf(c: { input: Stored | Stored[] }): Tensor | Tensor[] {
  return Array.isArray(c.input) ? c.input.map((s) => fromStored(s)) : fromStored(c.input);
}

for (const c of fx.grids) {
  Deno.test(`makeGrid matches torchvision: ${c.name}`, () => {
    const grid = utils.makeGrid(inputOf(c), c.options);
    assert.deepEqual([...grid.shape], c.output.shape);
    const got = grid.toArray(), want = c.output.data;
    for (let i = 0; i < want.length; i++) {
      // Same float32 arithmetic as torch: equal to the stored 9 digits.
      assert.ok(
        Math.abs(got[i] - want[i]) <= 1e-7 * Math.max(1, Math.abs(want[i])),
        `${c.name}[${i}]: ${got[i]} vs ${want[i]}`,
      );
    }
  });
}

for (const c of fx.saves) {
  Deno.test(`saveImage writes torchvision's pixels: ${c.name}`, () => {
    const path = Deno.makeTempFileSync({ suffix: ".png" });
    try {
      utils.saveImage(inputOf(c), path, c.options);
      const png = decodePng(Deno.readFileSync(path));
      const [h, w, ch] = c.pixels.shape;
      assert.deepEqual([png.height, png.width, png.channels, png.depth], [h, w, ch, 8], c.mode);
      assert.deepEqual([...png.data], c.pixels.data);
    } finally {
      Deno.removeSync(path);
    }
  });
}

Deno.test("makeGrid keeps the input's values and dtype when not normalizing", () => {
  const x = tensor(new Int32Array([1, 2, 3, 4, 5, 6, 7, 8]), [2, 1, 2, 2], { dtype: "int32" });
  const g = utils.makeGrid(x, { padding: 1, padValue: 9 });
  assert.equal(g.dtype, "int32");
  assert.deepEqual([...g.shape], [3, 4, 7]);
  assert.deepEqual([...g.toArray()].slice(0, 7 * 2), [9, 9, 9, 9, 9, 9, 9, 9, 1, 2, 9, 5, 6, 9]);
});

Deno.test("makeGrid and saveImage refuse bad input with what to write", () => {
  const x = rand([4, 1, 8, 8]);
  const cases: [() => unknown, RegExp][] = [
    [() => utils.makeGrid(rand([2, 1, 3, 8, 8])), /5-D.*select/],
    [() => utils.makeGrid(rand([8])), /1-D/],
    [() => utils.makeGrid(x, { nrow: 0 }), /nrow must be a whole number >= 1/],
    [() => utils.makeGrid(x, { nrow: 2.5 }), /nrow/],
    [() => utils.makeGrid(x, { padding: -1 }), /padding/],
    [() => utils.makeGrid(x, { normalize: true, valueRange: [1, 1] }), /lo < hi/],
    [
      () => utils.makeGrid(x, { normalize: true, valueRange: [250, -200] }),
      /valueRange: \[-200, 250\]/,
    ],
    [() => utils.makeGrid(x, { normalize: true, valueRange: [0, NaN] }), /two finite numbers/],
    [() => utils.makeGrid(x, { valueRange: [0, 1] }), /only acts with normalize: true/],
    [() => utils.makeGrid(x, { scaleEach: true }), /only acts with normalize: true/],
    // deno-lint-ignore no-explicit-any
    [() => utils.makeGrid(x, { value_range: [0, 1] } as any), /write 'valueRange'/],
    // deno-lint-ignore no-explicit-any
    [() => utils.makeGrid(x, { range: [0, 1] } as any), /valueRange/],
    // deno-lint-ignore no-explicit-any
    [() => (utils.makeGrid as any)(x, 4), /options object/],
    [() => utils.makeGrid(randn([5, 8, 8])), /x\.unsqueeze\(1\)/],
    [() => utils.makeGrid([randn([8, 8]), randn([8, 8])]), /unsqueeze\(0\)/],
    [() => utils.makeGrid([randn([1, 8, 8]), randn([1, 4, 4])]), /share shape/],
    [() => utils.makeGrid([]), /empty list/],
    [() => utils.makeGrid(tensor([NaN, 1, 2, 3], [1, 1, 2, 2]), { normalize: true }), /nanToNum/],
    [
      () =>
        utils.makeGrid(tensor(new Int32Array(4), [1, 1, 2, 2], { dtype: "int32" }), {
          normalize: true,
        }),
      /x\.float\(\)/,
    ],
    [() => utils.saveImage(x, "/nonexistent_dir_make_grid/grid.png"), /cannot write .*mkdirSync/],
    [() => utils.saveImage(x, "grid.jpg"), /only PNG.*\.jpg/],
    [() => utils.saveImage(x, "grid"), /no extension/],
    [() => utils.saveImage(x, "grid.png", { format: "jpeg" }), /format: "png"/],
    [() => utils.saveImage(rand([2, 5, 4, 4]), "grid.png"), /1 to 4 channels/],
    [
      () => utils.saveImage(tensor(new Int32Array(4), [1, 1, 2, 2], { dtype: "int32" }), "g.png"),
      /div\(255\)/,
    ],
    [() => utils.saveImage(tensor([NaN, 1, 0, 0], [1, 1, 2, 2]), "g.png"), /NaN/],
  ];
  for (const [f, re] of cases) {
    const m = messageOf(f);
    assert.match(m, re);
    assert.match(m, /^utils\.(makeGrid|saveImage): /);
  }
});

Deno.test("saveImage takes a URL and format png for another name", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const url = new URL(`file://${dir}/my grid.png`);
    utils.saveImage(rand([3, 3, 4, 4]), url, { nrow: 3 });
    utils.saveImage(rand([1, 4, 4]), `${dir}/slice.out`, { format: "PNG" });
    assert.equal(decodePng(Deno.readFileSync(url)).width, 3 * 6 + 2);
    assert.equal(decodePng(Deno.readFileSync(`${dir}/slice.out`)).channels, 3);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("makeGrid returns the grid on the input's device", () => {
  const x = rand([3, 1, 4, 4], { device: testDevice });
  const g = utils.makeGrid(x, { nrow: 2 });
  assert.equal(g.device, testDevice);
  assert.deepEqual([...g.shape], [3, 14, 14]);
});
