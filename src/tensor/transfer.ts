/**
 * Moving tensors between devices. Each device is its own library, so a copy
 * goes through host memory: device -> host with the source's library, host
 * -> device with the destination's.
 *
 * @module
 */
import type { DeviceName } from "./device.ts";
import type { Tensor } from "./tensor.ts";
import { Storage } from "./storage.ts";
import { record } from "./autograd.ts";
import { fromHost } from "./ops/creation.ts";
import { check } from "../ffi/native.ts";
import { backend, deviceName } from "./device.ts";

/**
 * `t` on `dev`: `t` itself when it is there, else a dense copy that records
 * the move for autograd (the gradient moves back). The copy of a tensor the
 * caller owns is the caller's; the copy of an op result is an op result.
 */
export function toDevice(t: Tensor, name: DeviceName): Tensor {
  const dev = deviceName(name); // torch's "cuda:0" is "cuda"
  if (t.device === dev) return t;
  backend(dev); // says why the device is unavailable before any copy
  const host = t.toArray();
  const out = fromHost(host, t.shape, { dtype: t.dtype, device: dev }, t.owner !== null);
  const from = t.device;
  return record(out, {
    name: "to",
    inputs: [t],
    saved: [],
    backward: (g) => [toDevice(g, from)],
  });
}

/**
 * Moves `t`'s elements to `dev` in place: the same Tensor object afterwards
 * holds dense memory on `dev` (its gradient is dropped). For parameters and
 * buffers, whose identity modules and optimizers rely on.
 */
export function moveInPlace(t: Tensor, name: DeviceName): void {
  const dev = deviceName(name); // torch's "cuda:0" is "cuda"
  if (t.device === dev) return;
  const lib = backend(dev);
  const host = t.toArray();
  const storage = new Storage(lib, dev, host.byteLength);
  try {
    if (host.byteLength > 0) {
      check(
        lib,
        lib.lits_copy_h2d(storage.ptr, host, host.byteLength),
        () => `to('${dev}') [${t.shape}]`,
      );
    }
  } catch (e) {
    storage.drop();
    throw e;
  }
  t._replaceStorage(storage);
}
