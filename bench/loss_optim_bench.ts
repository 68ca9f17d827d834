/**
 * Softmax + cross-entropy (forward and backward, at a segmentation-like size
 * and the classifier's [16, 3]) and the optimizer steps over the small CNN's
 * largest parameter (Linear 32768 -> 256, 8.4 M floats), in GB/s.
 *
 * @module
 */
import { functional as F, nn, noGrad, optim, randn, tensor, zeros } from "../mod.ts";
import { rateBench } from "./rate.ts";

for (
  const [name, [n, c, inner]] of [
    ["softmax+CE [16, 3]", [16, 3, 1]],
    ["softmax+CE [16, 3, 256, 256] (per pixel)", [16, 3, 256 * 256]],
  ] as [string, number[]][]
) {
  const shape = inner === 1 ? [n, c] : [n, c, 256, 256];
  const logits = randn(shape, { requiresGrad: true });
  const target = tensor(
    Int32Array.from({ length: n * inner }, (_, i) => i % c),
    inner === 1 ? [n] : [n, 256, 256],
    { dtype: "int32" },
  );
  // native/cpu/loss.c: the forward reads the logits once and the targets twice (the range
  // check, then the sums); the backward reads the targets three times (check, mean's weight
  // sum, the loop), reads the logits and writes their gradient.
  const logitBytes = n * c * inner * 4, targetBytes = n * inner * 4;
  const bytes = logitBytes + 2 * targetBytes;
  rateBench("loss", `${name} forward`, { bytes }, () => {
    noGrad(() => F.crossEntropy(logits, target).dispose());
  });
  const both = bytes + 2 * logitBytes + 3 * targetBytes;
  rateBench("loss", `${name} forward + backward`, { bytes: both }, () => {
    const loss = F.crossEntropy(logits, target);
    loss.backward();
    logits.grad?.dispose();
    logits.grad = null;
    loss.dispose();
  });
}

const numel = 256 * 32768;
for (
  const [name, make] of [
    ["Adam (weight decay 1e-4)", (p: nn.Parameter) => new optim.Adam([p], { weightDecay: 1e-4 })],
    ["AdamW", (p: nn.Parameter) => new optim.AdamW([p])],
    ["SGD momentum 0.9", (p: nn.Parameter) => new optim.SGD([p], { lr: 0.01, momentum: 0.9 })],
    ["RMSprop", (p: nn.Parameter) => new optim.RMSprop([p])],
    [
      "RMSprop centered momentum",
      (p: nn.Parameter) => new optim.RMSprop([p], { centered: true, momentum: 0.9 }),
    ],
    ["Adagrad", (p: nn.Parameter) => new optim.Adagrad([p])],
    ["Adamax", (p: nn.Parameter) => new optim.Adamax([p])],
    ["NAdam", (p: nn.Parameter) => new optim.NAdam([p])],
    ["RAdam", (p: nn.Parameter) => new optim.RAdam([p])],
  ] as [string, (p: nn.Parameter) => { step(): void }][]
) {
  const param = new nn.Parameter(randn([256, 32768]));
  param.grad = zeros([256, 32768]).keep();
  const opt = make(param);
  opt.step(); // creates the state
  // Adam reads param, grad, m, v and writes param, m, v; SGD with momentum 3 reads, 2 writes;
  // RMSprop and Adagrad one state (5 with RMSprop's two more), the rest two, as Adam.
  const states = name.startsWith("SGD") || name === "RMSprop" || name === "Adagrad"
    ? 1
    : name.startsWith("RMSprop")
    ? 3
    : 2;
  const bytes = numel * 4 * (3 + 2 * states);
  rateBench("optimizer", `${name} step, 8.4 M params`, { bytes }, () => opt.step());
}
