/**
 * The exported file's structure, read back with the same onnx.proto schema:
 * what ONNX's checker requires (IR version and opset import, typed and
 * shaped graph input and output, named initializers whose bytes fit their
 * dims, every node input defined before use, every value defined once,
 * typed attributes), the names (initializers = the state dict), eval-mode
 * semantics, and the Errors for models and options it cannot export. Where
 * Debian's python3-onnx is installed, ONNX's own checker (full check, strict
 * shape inference) reads every zoo model's file too.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { models, nn, onnx, type Tensor } from "../mod.ts";

import { type DecodedModel as Model, decodeModel } from "../src/onnx/proto.ts";

const { exportOnnx } = onnx;

/** The dims of a graph input or output: numbers, or the symbolic name. */
function dims(model: Model, which: "input" | "output"): (number | string)[] {
  const v = model.graph[which][0];
  assert.equal(v.type!.tensorType!.elemType, 1, `${which} is float32`);
  return v.type!.tensorType!.shape!.dim.map((d) => d.dimParam || Number(d.dimValue));
}

/** Asserts the checker's structural rules; returns the graph's op types. */
function assertWellFormed(model: Model): Set<string> {
  assert.equal(Number(model.irVersion), 8);
  assert.deepEqual(
    model.opsetImport.map((o) => [o.domain, Number(o.version)]),
    [["", 17]],
  );
  const g = model.graph;
  assert.equal(g.input.length, 1);
  assert.equal(g.output.length, 1);
  const defined = new Set<string>([g.input[0].name]);
  for (const t of g.initializer) {
    assert.ok(t.name, "every initializer is named");
    assert.ok(!defined.has(t.name), `initializer ${t.name} defined once`);
    defined.add(t.name);
    const count = t.dims.reduce((a, d) => a * Number(d), 1);
    const bytes = t.dataType === 7 ? 8 : 4;
    assert.equal(t.rawData.length, count * bytes, `${t.name}: raw data fits dims [${t.dims}]`);
  }
  const names = new Set<string>();
  const ops = new Set<string>();
  for (const n of g.node) {
    ops.add(n.opType);
    assert.ok(n.name && !names.has(n.name), `node name ${n.name} unique`);
    names.add(n.name);
    for (const i of n.input) assert.ok(defined.has(i), `${n.name}: input ${i} defined before use`);
    for (const o of n.output) {
      assert.ok(!defined.has(o), `${n.name}: output ${o} defined once`);
      defined.add(o);
    }
    for (const a of n.attribute) assert.ok(a.type > 0, `${n.name}.${a.name} has its type`);
  }
  assert.ok(defined.has(g.output[0].name), "the output is computed");
  return ops;
}

Deno.test("onnx: a resnet18 graph is well formed, named as the state dict, eval mode", () => {
  using net = models.resnet18({ inChannels: 1, numClasses: 3 });
  net.train(); // exported as in eval mode all the same, and the flag is left alone
  const model = decodeModel(
    exportOnnx(net, { inputShape: ["N", 1, 64, 64], normalize: { mean: 0.2, std: 0.3 } }),
  );
  assert.equal(net.training, true);
  const ops = assertWellFormed(model);
  assert.deepEqual(
    [...ops].sort(),
    [
      "Add",
      "BatchNormalization",
      "Conv",
      "Flatten",
      "Gemm",
      "GlobalAveragePool",
      "MaxPool",
      "Mul",
      "Relu",
    ],
  );
  assert.deepEqual(dims(model, "input"), ["N", 1, 64, 64]);
  assert.deepEqual(dims(model, "output"), ["N", 3]);
  assert.equal(model.graph.input[0].name, "image");
  assert.equal(model.graph.output[0].name, "logits");
  const expected = [...net.stateDict().keys()].filter((k) => !k.endsWith("num_batches_tracked"));
  const initializers = model.graph.initializer.map((t) => t.name);
  assert.deepEqual(initializers.filter((n) => !n.startsWith("normalize.")).sort(), expected.sort());
  const bn = model.graph.node.find((n) => n.name === "layer2.0.bn1")!;
  assert.deepEqual(bn.input.slice(1), [
    "layer2.0.bn1.weight",
    "layer2.0.bn1.bias",
    "layer2.0.bn1.running_mean",
    "layer2.0.bn1.running_var",
  ]);
  const meta = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
  assert.deepEqual(JSON.parse(meta["lits.normalize"]), { mean: 0.2, std: 0.3 });
});

Deno.test("onnx: every zoo model exports a well-formed graph; a fixed batch stays fixed", () => {
  const cases: [string, models.ModelOptions, number][] = [
    ["simple", { imageSize: 32, batchNorm: true }, 32],
    ["simple", { imageSize: 32 }, 32],
    ["simple", { imageSize: 32, globalPool: "max" }, 32],
    ["alexnet", {}, 63],
    ["resnet34", {}, 32],
    ["resnet50", {}, 32],
  ];
  for (const [name, options, size] of cases) {
    using net = models.create(name, { inChannels: 1, numClasses: 3, ...options });
    const model = decodeModel(exportOnnx(net, { inputShape: [2, 1, size, size] }));
    const ops = assertWellFormed(model);
    assert.ok(!ops.has("Dropout"), `${name}: no Dropout in eval mode`);
    assert.deepEqual(dims(model, "input"), [2, 1, size, size], name);
    assert.deepEqual(dims(model, "output"), [2, 3], name);
    const batchNorm = name.startsWith("resnet") || !!options.batchNorm;
    assert.equal(ops.has("BatchNormalization"), batchNorm, name);
  }
});

Deno.test("onnx: the output is named logits; Dropout and Identity add no node", () => {
  const net = new nn.Sequential(new nn.Flatten(), new nn.Dropout(), new nn.Identity());
  const model = decodeModel(exportOnnx(net, { inputShape: ["B", 2, 1, 1] }));
  assertWellFormed(model);
  assert.deepEqual(dims(model, "output"), ["B", 2]);
  assert.deepEqual(model.graph.node.map((n) => [n.opType, n.output]), [["Flatten", ["logits"]]]);
});

Deno.test("onnx: a module type without an ONNX mapping is an Error naming it", () => {
  class Net extends nn.Module {
    fc = new nn.Linear(4, 2);
    forward(x: Tensor): Tensor {
      return this.fc.forward(x).relu();
    }
  }
  assert.throws(
    () => exportOnnx(new Net(), { inputShape: ["N", 4, 1, 1] }),
    /cannot export the model \(Net\): no ONNX mapping for this module type; exportable: Sequential, Conv2d/,
  );
  const seq = new nn.Sequential(new nn.Flatten(), new nn.Linear(4, 4), new nn.GELU());
  assert.throws(
    () => exportOnnx(seq, { inputShape: ["N", 4, 1, 1] }),
    /cannot export 2 \(GELU\)/,
  );
  // A subclass may have changed forward, so only the exact zoo classes are read.
  class MyResNet extends models.ResNet {}
  using custom = new MyResNet(models.RESNET18, { inChannels: 1, numClasses: 3 });
  assert.throws(() => exportOnnx(custom, { inputShape: ["N", 1, 32, 32] }), /\(MyResNet\)/);
  using list = new nn.ModuleList([new nn.ReLU()]);
  assert.throws(() => exportOnnx(list, { inputShape: ["N", 1, 2, 2] }), /\(ModuleList\)/);
  // A forward hook or an instance's own forward changes the computation, which
  // torch.onnx.export traces and the class's emitter would leave out.
  const hooked = new nn.Sequential(new nn.Flatten(), new nn.Linear(4, 4));
  const handle = hooked[1].registerForwardHook((_m, _i, o) => o.mul(0));
  assert.throws(
    () => exportOnnx(hooked, { inputShape: ["N", 4, 1, 1] }),
    /cannot export 1 \(Linear\): it has a forward hook or a forward of its own/,
  );
  handle.remove();
  exportOnnx(hooked, { inputShape: ["N", 4, 1, 1] });
  const patched = new nn.Sequential(new nn.Flatten(), new nn.ReLU());
  patched[1].forward = (x: Tensor) => x;
  assert.throws(() => exportOnnx(patched, { inputShape: ["N", 4, 1, 1] }), /1 \(ReLU\): it has/);
});

Deno.test("onnx: shapes the model would refuse are Errors naming the layer", () => {
  using simple = models.simpleCNN({ imageSize: 32 });
  assert.throws(
    () => exportOnnx(simple, { inputShape: ["N", 1, 64, 64] }),
    /SimpleCNN: input \[N,1,64,64\] does not fit classifier\.0 \(Linear\), built for 32 x 32/,
  );
  using resnet = models.resnet18({ inChannels: 1, numClasses: 3 });
  assert.throws(
    () => exportOnnx(resnet, { inputShape: ["N", 3, 32, 32] }),
    /ResNet-18: input \[N,3,32,32\] does not fit conv1 \(Conv2d\)/,
  );
  using alex = models.alexnet({ inChannels: 1, numClasses: 3 });
  assert.throws(() => exportOnnx(alex, { inputShape: ["N", 1, 62, 62] }), /H, W >= 63/);
  const seq = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.Linear(8, 2));
  assert.throws(
    () => exportOnnx(seq, { inputShape: ["N", 1, 4, 4] }),
    /1 \(Linear\) expects \[N, 8\], but its input would be \[N, 2, 2, 2\]/,
  );
  const pool = new nn.Sequential(new nn.MaxPool2d(5));
  assert.throws(() => exportOnnx(pool, { inputShape: [1, 1, 4, 4] }), /0 \(MaxPool2d\).*too small/);
  const out4d = new nn.Sequential(new nn.Conv2d(1, 2, 1));
  assert.throws(
    () => exportOnnx(out4d, { inputShape: [1, 1, 4, 4] }),
    /output would be \[1, 2, 4, 4\], not logits/,
  );
});

Deno.test("onnx: layers whose eval mode a graph cannot reproduce are refused", () => {
  const bn = new nn.Sequential(new nn.BatchNorm2d(1, { trackRunningStats: false }));
  assert.throws(
    () => exportOnnx(bn, { inputShape: [1, 1, 2, 2] }),
    /0 \(BatchNorm2d\) keeps no running statistics/,
  );
  const avg = new nn.Sequential(new nn.AvgPool2d(2, { ceilMode: true }), new nn.Flatten());
  assert.throws(() => exportOnnx(avg, { inputShape: [1, 1, 5, 5] }), /with ceilMode/);
});

Deno.test("onnx: bad arguments are Errors that show the call to write", () => {
  using net = models.simpleCNN({ imageSize: 16 });
  const call = /write exportOnnx\(model, \{ inputShape: \["N", 1, 128, 128\]/;
  const bad = (options: unknown) =>
    assert.throws(() => exportOnnx(net, options as { inputShape: [number, 1, 16, 16] }));
  // @ts-expect-error: the options are required
  assert.throws(() => exportOnnx(net), /exportOnnx/);
  assert.throws(() => exportOnnx({} as nn.Module, { inputShape: [1, 1, 16, 16] }), /nn\.Module/);
  assert.throws(() => exportOnnx(net, {} as never), /inputShape is required/);
  assert.throws(() => exportOnnx(net, { input_shape: [1, 1, 16, 16] } as never), /inputShape/);
  assert.throws(() => exportOnnx(net, { inputShape: [1, 16, 16] } as never), call);
  assert.throws(() => exportOnnx(net, { inputShape: [0, 1, 16, 16] }), /batch/);
  assert.throws(() => exportOnnx(net, { inputShape: ["N x", 1, 16, 16] }), /batch/);
  assert.throws(() => exportOnnx(net, { inputShape: ["N", 1, 16.5, 16] }), /positive integer/);
  assert.throws(
    () => exportOnnx(net, { inputShape: ["N", 1, 16, 16], normalize: { mean: 0, std: 0 } }),
    /std > 0/,
  );
  assert.throws(
    () => exportOnnx(net, { inputShape: ["N", 1, 16, 16], normalize: { mean: 0, sd: 1 } as never }),
    /'sd'/,
  );
  bad({ inputShape: ["N", 1, 16, 16], metadata: { a: 1 } });
});

const PYTHON = "/usr/bin/python3";
const CHECKER = `
import sys, onnx
for path in sys.argv[1:]:
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
print("checked", len(sys.argv) - 1)
`;
const hasOnnx = (() => {
  try {
    return new Deno.Command(PYTHON, { args: ["-c", "import onnx"], stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "onnx: ONNX's own checker passes every zoo model (where python3-onnx is installed)",
  ignore: !hasOnnx,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const files: string[] = [];
    const cases: [string, models.ModelOptions, number][] = [
      ["simple", { imageSize: 32, batchNorm: true }, 32],
      ["alexnet", {}, 63],
      ["resnet18", {}, 32],
      ["resnet50", {}, 33],
    ];
    for (const [name, options, size] of cases) {
      using net = models.create(name, { inChannels: 1, numClasses: 3, ...options });
      const file = join(dir, `${name}.onnx`);
      const normalize = { mean: 0.2, std: 0.3 };
      await Deno.writeFile(file, exportOnnx(net, { inputShape: ["N", 1, size, size], normalize }));
      files.push(file);
    }
    const out = await new Deno.Command(PYTHON, { args: ["-c", CHECKER, ...files] }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.ok(out.success, text);
    assert.match(text, /checked 4/);
    await Deno.remove(dir, { recursive: true });
  },
});
