/**
 * The exported file's structure, read back with the same onnx.proto schema:
 * what ONNX's checker requires (IR version and opset import, typed and
 * shaped graph input and output, named initializers whose bytes fit their
 * dims, every node input defined before use, every value defined once,
 * typed attributes), the names (initializers = the state dict), eval-mode
 * semantics, string attributes (Resize's modes), and the Errors for models
 * and options it cannot export. Where Debian's python3-onnx is installed,
 * ONNX's own checker (full check, strict shape inference) reads every zoo
 * model's file and one of the layers beyond the zoo too.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { models, nn, onnx, type Tensor } from "../mod.ts";

import {
  attribute,
  type DecodedModel as Model,
  decodeModel,
  encodeModel,
  onnx as proto,
} from "../src/onnx/proto.ts";

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
    for (const i of n.input) {
      if (i === "") continue; // an optional input left out (Resize's roi)
      assert.ok(defined.has(i), `${n.name}: input ${i} defined before use`);
    }
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

Deno.test("onnx: a module with a forward of its own is an Error naming it and the fix", () => {
  class Net extends nn.Module {
    fc = new nn.Linear(4, 2);
    forward(x: Tensor): Tensor {
      return this.fc.forward(x).relu();
    }
  }
  assert.throws(
    () => exportOnnx(new Net(), { inputShape: ["N", 4, 1, 1] }),
    new RegExp(
      "cannot export the model \\(Net\\): Net defines its own forward, and exportOnnx builds " +
        "the graph by walking the module tree, so it cannot read that code; build the model " +
        "as an nn.Sequential of exportable layers .*Exportable: Sequential, Conv2d",
    ),
  );
  // Inside a Sequential, the message quotes its path.
  const seq = new nn.Sequential(new nn.Flatten(), new nn.Linear(4, 4), new Net());
  assert.throws(() => exportOnnx(seq, { inputShape: ["N", 4, 1, 1] }), /layer "2" \(Net\): Net/);
  // A subclass is read as its parent unless some class in between has a forward.
  class Tweaked extends nn.Conv2d {
    override forward(x: Tensor): Tensor {
      return super.forward(x).relu();
    }
  }
  class Deeper extends Tweaked {}
  const tweaked = new nn.Sequential(new Deeper(1, 2, 1), new nn.Flatten());
  assert.throws(
    () => exportOnnx(tweaked, { inputShape: ["N", 1, 1, 1] }),
    /layer "0" \(Deeper\): Tweaked defines its own forward/,
  );
  class MyResNet extends models.ResNet {}
  using custom = new MyResNet(models.RESNET18, { inChannels: 1, numClasses: 3 });
  assertWellFormed(decodeModel(exportOnnx(custom, { inputShape: ["N", 1, 32, 32] })));
});

Deno.test("onnx: ModuleList and ModuleDict say they have no forward and to use Sequential", () => {
  using list = new nn.ModuleList([new nn.ReLU()]);
  assert.throws(
    () => exportOnnx(list, { inputShape: ["N", 1, 2, 2] }),
    /the model \(ModuleList\): an nn\.ModuleList has no forward .* use nn\.Sequential/,
  );
  const dict = new nn.Sequential(
    new nn.Flatten(),
    new nn.ModuleDict({ head: new nn.Linear(4, 2) }),
  );
  assert.throws(
    () => exportOnnx(dict, { inputShape: ["N", 4, 1, 1] }),
    /layer "1" \(ModuleDict\): an nn\.ModuleDict has no forward/,
  );
});

Deno.test("onnx: a forward hook or an instance's own forward is refused", () => {
  // They change the computation, which torch.onnx.export traces and the
  // class's emitter would leave out.
  const hooked = new nn.Sequential(new nn.Flatten(), new nn.Linear(4, 4));
  const handle = hooked[1].registerForwardHook((_m, _i, o) => o.mul(0));
  assert.throws(
    () => exportOnnx(hooked, { inputShape: ["N", 4, 1, 1] }),
    /cannot export layer "1" \(Linear\): it has a forward hook or a forward of its own/,
  );
  handle.remove();
  exportOnnx(hooked, { inputShape: ["N", 4, 1, 1] });
  const patched = new nn.Sequential(new nn.Flatten(), new nn.ReLU());
  patched[1].forward = (x: Tensor) => x;
  assert.throws(
    () => exportOnnx(patched, { inputShape: ["N", 4, 1, 1] }),
    /layer "1" \(ReLU\): it has/,
  );
});

Deno.test("onnx: string attributes are STRING AttributeProtos of UTF-8 bytes", () => {
  const a = attribute("mode", "linear");
  assert.equal(a.type, proto.AttributeProto.AttributeType.STRING);
  assert.equal(a.type, 3);
  assert.deepEqual([...a.s!], [...new TextEncoder().encode("linear")]);
  // Through the wire and back, in a model.
  const bytes = encodeModel({
    irVersion: 8,
    graph: { name: "g", node: [{ opType: "Resize", name: "r", attribute: [a] }] },
  });
  const back = decodeModel(bytes).graph.node[0].attribute[0];
  assert.equal(back.type, 3);
  assert.equal(new TextDecoder().decode(back.s), "linear");

  const text = (model: Model, op: string) => {
    const node = model.graph.node.find((n) => n.opType === op)!;
    return Object.fromEntries(
      node.attribute.map((
        at,
      ) => [at.name, at.type === 3 ? new TextDecoder().decode(at.s) : at.type === 1 ? at.f : at.i]),
    );
  };
  const up = (options: ConstructorParameters<typeof nn.Upsample>[0]) =>
    decodeModel(
      exportOnnx(new nn.Sequential(new nn.Upsample(options), new nn.Flatten()), {
        inputShape: ["N", 1, 3, 3],
      }),
    );
  const cubic = up({ scaleFactor: 2, mode: "bicubic" });
  assertWellFormed(cubic);
  assert.deepEqual(text(cubic, "Resize"), {
    mode: "cubic",
    coordinate_transformation_mode: "half_pixel",
    cubic_coeff_a: -0.75,
  });
  assert.deepEqual(text(up({ size: 5 }), "Resize"), {
    mode: "nearest",
    coordinate_transformation_mode: "asymmetric",
    nearest_mode: "floor",
  });
  assert.deepEqual(text(up({ size: 5, mode: "nearest-exact" }), "Resize"), {
    mode: "nearest",
    coordinate_transformation_mode: "half_pixel",
    nearest_mode: "round_prefer_ceil",
  });
  assert.deepEqual(text(up({ size: 5, mode: "bilinear", alignCorners: true }), "Resize"), {
    mode: "linear",
    coordinate_transformation_mode: "align_corners",
  });
  // A size keeps the batch dynamic: sizes = Concat(Shape(x)[0:2], [oh, ow]).
  const sized = up({ size: [4, 5] });
  assert.deepEqual(sized.graph.node.map((n) => n.opType), ["Shape", "Concat", "Resize", "Flatten"]);
  assert.deepEqual(dims(sized, "output"), ["N", 20]);
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
    /"1" \(Linear\) expects \[N, 8\] or \[N, \.\.\., 8\], but its input would be \[N, 2, 2, 2\]/,
  );
  const pool = new nn.Sequential(new nn.MaxPool2d(5));
  assert.throws(
    () => exportOnnx(pool, { inputShape: [1, 1, 4, 4] }),
    /layer "0" \(MaxPool2d\).*too small/,
  );
  const out4d = new nn.Sequential(new nn.Conv2d(1, 2, 1));
  assert.throws(
    () => exportOnnx(out4d, { inputShape: [1, 1, 4, 4] }),
    /output would be \[1, 2, 4, 4\], not logits \[N, classes\]: the graph is a classifier's/,
  );
  const refused = (layer: nn.Module, shape: [string, number, number, number], message: RegExp) =>
    assert.throws(
      () => exportOnnx(new nn.Sequential(new nn.Flatten(2), layer), { inputShape: shape }),
      message,
    );
  refused(
    new nn.InstanceNorm2d(3),
    ["N", 3, 2, 2],
    /"1" \(InstanceNorm2d\): its input would be \[N, 3, 4\], which it takes as one unbatched/,
  );
  refused(
    new nn.LayerNorm([3, 3]),
    ["N", 2, 3, 3],
    /"1" \(LayerNorm\) normalises the trailing \[3, 3\] .* its input would be \[N, 2, 9\]/,
  );
  refused(new nn.GroupNorm(2, 4), ["N", 2, 3, 3], /layer "1" \(GroupNorm\) expects \[N, 4, L\]/);
  refused(
    new nn.Upsample({ scaleFactor: 2, mode: "bilinear" }),
    ["N", 2, 3, 3],
    /"1" \(Upsample\): mode "bilinear" takes a 4-D input .* its input would be \[N, 2, 9\]/,
  );
});

Deno.test("onnx: layers whose eval mode a graph cannot reproduce are refused", () => {
  const bn = new nn.Sequential(new nn.BatchNorm2d(1, { trackRunningStats: false }));
  assert.throws(
    () => exportOnnx(bn, { inputShape: [1, 1, 2, 2] }),
    /layer "0" \(BatchNorm2d\) keeps no running statistics/,
  );
  // torch resamples 7 x 7 by 1.1 into 7 x 7; ONNX Runtime copies a same-shape Resize.
  const same = new nn.Sequential(
    new nn.Upsample({ scaleFactor: 1.1, mode: "bicubic" }),
    new nn.Flatten(),
  );
  assert.throws(
    () => exportOnnx(same, { inputShape: ["N", 1, 7, 7] }),
    /"0" \(Upsample\): scaleFactor 1\.1 keeps every size of \[N, 1, 7, 7\], .* Runtime copies/,
  );
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
  name: "onnx: ONNX's own checker passes the zoo and new layers (where python3-onnx is installed)",
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
    // And the layers beyond the zoo: every new op, string attributes, Resize by scales and sizes.
    const layers = new nn.Sequential(
      new nn.Conv2d(1, 4, 3),
      new nn.GroupNorm(2, 4),
      new nn.GELU(),
      new nn.Upsample({ size: [9, 11], mode: "bilinear" }),
      new nn.InstanceNorm2d(4, { affine: true }),
      new nn.SiLU(),
      new nn.Upsample({ scaleFactor: 0.5, mode: "nearest-exact" }),
      new nn.LayerNorm([4, 5]),
      new nn.Hardswish(),
      new nn.AvgPool2d(3, { stride: 2, padding: 1, ceilMode: true }),
      new nn.Linear(3, 2),
      new nn.Flatten(),
    );
    files.push(join(dir, "layers.onnx"));
    await Deno.writeFile(files.at(-1)!, exportOnnx(layers, { inputShape: ["N", 1, 8, 8] }));
    const out = await new Deno.Command(PYTHON, { args: ["-c", CHECKER, ...files] }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.ok(out.success, text);
    assert.match(text, /checked 5/);
    await Deno.remove(dir, { recursive: true });
  },
});
