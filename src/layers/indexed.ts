/**
 * Python's indexing on the module lists (`Sequential`, `ModuleList`):
 * `seq[-1]` is the last module, as in PyTorch, and an index outside the
 * list, or a deleted entry, is an Error. Plain JavaScript made `seq[-1] = m`
 * a new child named "-1" that forward never ran, beside the one it meant to
 * replace.
 *
 * @module
 */
import { Module } from "./module.ts";

/** A module list: children "0".."length-1". */
export interface IndexedModules {
  readonly length: number;
  [index: number]: Module;
}

/** @internal `m` if it is a Module, else an Error naming the list and the entry. */
export function requireModule(where: string, m: unknown, at: string | number): Module {
  if (!(m instanceof Module)) {
    const got = m === null ? "null" : typeof m === "object" ? m.constructor?.name : typeof m;
    throw new Error(`${where}: entry ${JSON.stringify(at)} is ${got}, not an nn.Module`);
  }
  return m;
}

/**
 * @internal keeps `list[-1]` .. `list[-length]` as accessors (not enumerable,
 * so not children) to the entries counted from the end; call it whenever the
 * length changes.
 */
export function syncNegativeIndices(list: IndexedModules, where: string): void {
  const n = list.length;
  const target = list as unknown as Record<string, unknown>;
  for (const key of Object.getOwnPropertyNames(list)) {
    if (/^-\d+$/.test(key) && -Number(key) > n) delete target[key];
  }
  for (let k = 1; k <= n; k++) {
    if (Object.getOwnPropertyDescriptor(list, `-${k}`)) continue;
    Object.defineProperty(list, `-${k}`, {
      configurable: true,
      enumerable: false,
      get: () => list[list.length - k],
      set: (m: unknown) => {
        (list as { [i: number]: Module })[list.length - k] = requireModule(where, m, -k);
      },
    });
  }
}

/**
 * @internal throws where an entry of `list` was assigned outside
 * [-length, length) or deleted: the list would hold a child that forward
 * never runs, or lack one it runs.
 */
export function checkEntries(list: IndexedModules, where: string, fix: string): void {
  for (const key of Object.keys(list)) {
    const i = Number(key);
    if (!/^[-+]?\d/.test(key) || key.trim() === "") {
      // seq.head = m: a child under a name, trained and saved, that forward never runs.
      if ((list as unknown as Record<string, unknown>)[key] instanceof Module) {
        throw new Error(`${where}: '${key}' is not an index (length ${list.length}); ${fix}`);
      }
      continue;
    }
    if (String(i) !== key || !Number.isInteger(i)) {
      // seq[1.5] or seq["01"] would be a child of that name that forward never runs.
      throw new Error(`${where}: '${key}' is not an index (length ${list.length}); ${fix}`);
    }
    if (i < 0 || i >= list.length) {
      throw new Error(
        `${where}: index ${i} is out of range (length ${list.length}); ${fix}`,
      );
    }
    requireModule(where, list[i], i);
  }
  for (let i = 0; i < list.length; i++) {
    if (!(i in list)) throw new Error(`${where}: entry ${i} was deleted; ${fix}`);
  }
}
