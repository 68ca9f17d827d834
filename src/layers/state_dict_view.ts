/**
 * A state dict read as torch's dict: `model.stateDict()` is a Map, and
 * `sd["fc.weight"]` (torch's `sd['fc.weight']`) read undefined silently, a
 * ported `model.state_dict()[name].size()` failing later and far away. The
 * Map returned answers such a read with the entry, and keeps every Map
 * method (`get`, `keys`, `entries`, `size`, `instanceof Map`).
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";

/** @internal `map`, with `sd[key]` reading the entry `key` where Map has no such member. */
export function keyedStateDict(map: Map<string, Tensor>): Map<string, Tensor> {
  return new Proxy(map, {
    get(target, prop) {
      if (typeof prop === "string" && !(prop in target) && target.has(prop)) {
        return target.get(prop);
      }
      const v = Reflect.get(target, prop, target);
      // Map's methods need the Map itself as `this`, not the proxy.
      return typeof v === "function" ? v.bind(target) : v;
    },
    set(target, prop, value) {
      if (typeof prop === "string" && !(prop in target)) {
        throw new Error(
          `state dict: sd["${prop}"] = ... does not add an entry to a Map; write ` +
            `sd.set("${prop}", tensor)`,
        );
      }
      return Reflect.set(target, prop, value, target);
    },
  });
}
