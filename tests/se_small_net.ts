/**
 * The small EfficientNet the squeeze-and-excitation tests share
 * (se_fused_test.ts, se_fused_bf16_test.ts).
 *
 * @module
 */
import { type Device, manualSeed, models, noGrad, randn, scope } from "../mod.ts";

/**
 * A small EfficientNet in evaluation on `device`, its batch norms' running
 * statistics from one batch, and fc1 biases of both signs, so that the gates
 * are not all near 0.5.
 */
export function smallEfficientNet(device: Device): models.EfficientNet {
  manualSeed(9);
  const net = new models.EfficientNet(
    { name: "EfficientNet (small)", widthMult: 0.5, depthMult: 0.5, dropout: 0.2 },
    { inChannels: 1, numClasses: 3 },
  ).to(device);
  noGrad(() => scope(() => void net(randn([4, 1, 40, 40], { device }))));
  for (const m of net.modules()) {
    if (m instanceof models.SqueezeExcitation) {
      noGrad(() => m.fc1.bias!.copy_(randn([...m.fc1.bias!.shape], { device })));
    }
  }
  net.eval();
  return net;
}
