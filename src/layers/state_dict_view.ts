/**
 * A state dict read as torch's dict: `model.stateDict()` is a Map, and
 * `sd["fc.weight"]` (torch's `sd['fc.weight']`) read undefined silently, a
 * ported `model.state_dict()[name].size()` failing later and far away. Each
 * key also gets a non-enumerable getter on the Map itself, so that such a
 * read gives the entry while the result stays a real Map (`instanceof`,
 * `util.types.isMap`, deep equality, `Map.prototype.get.call`), whose
 * `Object.keys` and JSON are unchanged.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";

/** @internal `map`, with `sd[key]` reading the entry `key` where Map has no such member. */
export function keyedStateDict(map: Map<string, Tensor>): Map<string, Tensor> {
  for (const key of map.keys()) {
    if (key in map) continue; // a key named as a Map member ("size") is read with get()
    Object.defineProperty(map, key, {
      configurable: true,
      enumerable: false,
      get: () => map.get(key),
      set: (_: unknown) => {
        throw new Error(
          `state dict: sd["${key}"] = ... does not change the entry of a Map; write ` +
            `sd.set("${key}", tensor)`,
        );
      },
    });
  }
  return map;
}
