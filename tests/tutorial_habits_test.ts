import assert from "node:assert/strict";
import { data, io, nn, optim, randn, randperm, tensor } from "../mod.ts";
import { deviceName } from "../src/tensor/device.ts";

Deno.test("ReduceLROnPlateau.step takes a one-element tensor, as torch's float(metrics)", () => {
  const opt = new optim.SGD(new nn.Linear(2, 2).parameters(), { lr: 1 });
  const sched = new optim.ReduceLROnPlateau(opt, { patience: 0 });
  sched.step(tensor(0.5));
  sched.step(tensor([0.7]));
  assert.equal(sched.best, 0.5);
  assert.ok(Math.abs(sched.lastLr[0] - 0.1) < 1e-12);
  assert.throws(
    () => sched.step(tensor([1, 2])),
    /needs this epoch's metric, one number, got a float32 tensor of shape \[2\]; write sched\.step\(valLoss\.item\(\)\)/,
  );
});

Deno.test("a torch MultiStepLR state dict (its milestones a Counter) loads, as torch >= 2.1's weights-only load", async () => {
  // scripts/make_scheduler_torch_state_fixtures.py: MultiStepLR(milestones=[2, 5, 5, 7]).
  const ck = await io.loadPth("tests/fixtures/scheduler_torch_state/multistep.pth") as {
    scheduler: { milestones: Map<number, number> };
  };
  assert.deepEqual([...ck.scheduler.milestones], [[2, 1], [5, 2], [7, 1]]);
});

Deno.test("a schedule given torch's last_epoch resume says how to resume here", () => {
  const opt = new optim.SGD(new nn.Linear(2, 2).parameters(), { lr: 1 });
  for (const key of ["lastEpoch", "last_epoch"]) {
    assert.throws(
      () => new optim.ExponentialLR(opt, { gamma: 0.9, [key]: 4 } as never),
      new RegExp(`ExponentialLR: the option '${key}' .* is not taken; .*sched\\.loadStateDict`),
    );
  }
  assert.throws(
    () => new optim.OneCycleLR(opt, { maxLr: 1, totalSteps: 10, lastEpoch: 3 } as never),
    /OneCycleLR: the option 'lastEpoch'/,
  );
  assert.equal(opt.paramGroups[0].options.lr, 1); // nothing changed
});

Deno.test("TensorDataset of feature rows (torch's MNIST [N, 784]) says how to batch them", () => {
  using x = randn([10, 784]);
  assert.throws(
    () => new data.TensorDataset(x, Array.from({ length: 10 }, (_, i) => i % 3)),
    /got \[10,784\]: this dataset gives image samples; .*x\.indexSelect\(0, order\.slice\(i, i \+ batchSize\)\)/,
  );
  // The advice runs as written.
  using order = randperm(10);
  using xb = x.indexSelect(0, order.slice(0, 4));
  assert.deepEqual(xb.shape, [4, 784]);
});

Deno.test("a scheduler dict of newer torch (_is_initial, no verbose) loads", () => {
  // torch >= 2.2's StepLR(step_size=2, gamma=0.5) over lr 0.1, three steps.
  const opt = new optim.SGD(new nn.Linear(2, 2).parameters(), { lr: 0.1 });
  const sched = new optim.StepLR(opt, { stepSize: 2, gamma: 0.5 });
  sched.loadStateDict({
    step_size: 2,
    gamma: 0.5,
    base_lrs: [0.1],
    last_epoch: 3,
    _step_count: 4,
    _get_lr_called_within_step: false,
    _last_lr: [0.05],
    _is_initial: false,
  } as never);
  assert.equal(sched.lastEpoch, 3);
  assert.deepEqual(sched.lastLr, [0.05]);
});

Deno.test("device names: torch's cuda:N only, no spaces or leading zeros", () => {
  assert.equal(deviceName("cuda:0"), "cuda");
  assert.throws(() => deviceName("cuda:1"), /CUDA_VISIBLE_DEVICES=1 /);
  for (const bad of [" cuda:0 ", "cuda:00", "cuda:01", "CUDA:0", "cuda:-1"]) {
    assert.throws(() => deviceName(bad), /unknown device/, bad);
  }
});

Deno.test("SequentialLR.loadStateDict is all or nothing: a refused dict leaves its schedules as they were", () => {
  const make = () => {
    const opt = new optim.SGD(new nn.Linear(2, 2).parameters(), { lr: 1 });
    const a = new optim.ConstantLR(opt, { factor: 0.5, totalIters: 2 });
    const b = new optim.ExponentialLR(opt, { gamma: 0.9 });
    return { a, b, s: new optim.SequentialLR(opt, { schedulers: [a, b], milestones: [2] }) };
  };
  const first = make();
  for (let i = 0; i < 3; i++) first.s.step();
  const sd = first.s.stateDict();
  const { a, b, s } = make();
  assert.throws(
    () => s.loadStateDict({ ...sd, lastEpoch: 1.5 }),
    /expected \{ lastEpoch, baseLrs \}/,
  );
  assert.deepEqual([a.lastEpoch, b.lastEpoch, s.lastEpoch], [0, 0, 0]);
  s.loadStateDict(sd);
  assert.deepEqual(s.lastLr, first.s.lastLr);
});
