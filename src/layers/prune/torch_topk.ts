/**
 * Which k entries torch 1.13's CPU `topk` picks, ties included. The pruning
 * methods prune (or keep) exactly those, so that equal magnitudes (a weight
 * pruned before and made permanent, constant initialisations) give torch's
 * mask, not another equally valid one.
 *
 * torch copies the values with their indices into a vector and runs
 * libstdc++'s `std::partial_sort` (where k * 64 <= n) or `std::nth_element`
 * on it; which of equal values come first follows from those algorithms'
 * exact steps, so they are written out here (heap select; introselect with
 * median-of-three pivots and insertion sort below four elements).
 *
 * @module
 */

type Less = (a: number, b: number) => boolean;

/** One slot: the value and its index. */
interface Slots {
  v: Float64Array;
  i: Int32Array;
}

function swap(s: Slots, a: number, b: number): void {
  const v = s.v[a], i = s.i[a];
  s.v[a] = s.v[b];
  s.i[a] = s.i[b];
  s.v[b] = v;
  s.i[b] = i;
}

/** libstdc++'s `__push_heap` on [first, ...), the hole at `hole`. */
function pushHeap(
  s: Slots,
  first: number,
  hole: number,
  top: number,
  v: number,
  ix: number,
  less: Less,
): void {
  let parent = Math.floor((hole - 1) / 2);
  while (hole > top && less(s.v[first + parent], v)) {
    s.v[first + hole] = s.v[first + parent];
    s.i[first + hole] = s.i[first + parent];
    hole = parent;
    parent = Math.floor((hole - 1) / 2);
  }
  s.v[first + hole] = v;
  s.i[first + hole] = ix;
}

/** libstdc++'s `__adjust_heap`. */
function adjustHeap(
  s: Slots,
  first: number,
  hole: number,
  len: number,
  v: number,
  ix: number,
  less: Less,
): void {
  const top = hole;
  let child = hole;
  while (child < Math.floor((len - 1) / 2)) {
    child = 2 * (child + 1);
    if (less(s.v[first + child], s.v[first + child - 1])) child--;
    s.v[first + hole] = s.v[first + child];
    s.i[first + hole] = s.i[first + child];
    hole = child;
  }
  if ((len & 1) === 0 && child === Math.floor((len - 2) / 2)) {
    child = 2 * (child + 1);
    s.v[first + hole] = s.v[first + child - 1];
    s.i[first + hole] = s.i[first + child - 1];
    hole = child - 1;
  }
  pushHeap(s, first, hole, top, v, ix, less);
}

/** libstdc++'s `__heap_select`: the `middle - first` least (by `less`) go first. */
function heapSelect(s: Slots, first: number, middle: number, last: number, less: Less): void {
  const len = middle - first;
  if (len >= 2) {
    for (let parent = Math.floor((len - 2) / 2); parent >= 0; parent--) {
      adjustHeap(s, first, parent, len, s.v[first + parent], s.i[first + parent], less);
    }
  }
  for (let i = middle; i < last; i++) {
    if (less(s.v[i], s.v[first])) {
      // __pop_heap(first, middle, i)
      const v = s.v[i], ix = s.i[i];
      s.v[i] = s.v[first];
      s.i[i] = s.i[first];
      adjustHeap(s, first, 0, len, v, ix, less);
    }
  }
}

/** libstdc++'s `__move_median_to_first`. */
function medianToFirst(
  s: Slots,
  result: number,
  a: number,
  b: number,
  c: number,
  less: Less,
): void {
  const va = s.v[a], vb = s.v[b], vc = s.v[c];
  if (less(va, vb)) {
    if (less(vb, vc)) swap(s, result, b);
    else if (less(va, vc)) swap(s, result, c);
    else swap(s, result, a);
  } else if (less(va, vc)) swap(s, result, a);
  else if (less(vb, vc)) swap(s, result, c);
  else swap(s, result, b);
}

/** libstdc++'s `__unguarded_partition_pivot`: returns the cut. */
function partitionPivot(s: Slots, first: number, last: number, less: Less): number {
  const mid = first + Math.floor((last - first) / 2);
  medianToFirst(s, first, first + 1, mid, last - 1, less);
  let lo = first + 1, hi = last;
  const pivot = first;
  while (true) {
    while (less(s.v[lo], s.v[pivot])) lo++;
    hi--;
    while (less(s.v[pivot], s.v[hi])) hi--;
    if (!(lo < hi)) return lo;
    swap(s, lo, hi);
    lo++;
  }
}

/** libstdc++'s `__insertion_sort`. */
function insertionSort(s: Slots, first: number, last: number, less: Less): void {
  if (first === last) return;
  for (let i = first + 1; i < last; i++) {
    const v = s.v[i], ix = s.i[i];
    if (less(v, s.v[first])) {
      for (let j = i; j > first; j--) {
        s.v[j] = s.v[j - 1];
        s.i[j] = s.i[j - 1];
      }
      s.v[first] = v;
      s.i[first] = ix;
    } else {
      let j = i;
      while (less(v, s.v[j - 1])) {
        s.v[j] = s.v[j - 1];
        s.i[j] = s.i[j - 1];
        j--;
      }
      s.v[j] = v;
      s.i[j] = ix;
    }
  }
}

/** libstdc++'s `std::nth_element` (introselect). */
function nthElement(s: Slots, nth: number, less: Less): void {
  let first = 0, last = s.v.length;
  if (first === last || nth === last) return;
  let depth = 2 * (31 - Math.clz32(last - first)); // 2 * std::__lg(n)
  while (last - first > 3) {
    if (depth === 0) {
      heapSelect(s, first, nth + 1, last, less);
      swap(s, first, nth);
      return;
    }
    depth--;
    const cut = partitionPivot(s, first, last, less);
    if (cut <= nth) first = cut;
    else last = cut;
  }
  insertionSort(s, first, last, less);
}

/**
 * @internal The indices torch 1.13's CPU `topk(values, k, largest)` returns
 * (as a set: their order is not kept), NaN counting as the largest value.
 */
export function torchTopkIndices(values: ArrayLike<number>, k: number, largest: boolean): number[] {
  const n = values.length;
  if (k === 0) return [];
  const s: Slots = { v: Float64Array.from(values), i: new Int32Array(n) };
  for (let j = 0; j < n; j++) s.i[j] = j;
  const less: Less = largest
    ? (x, y) => (Number.isNaN(x) && !Number.isNaN(y)) || x > y
    : (x, y) => (!Number.isNaN(x) && Number.isNaN(y)) || x < y;
  if (k * 64 <= n) heapSelect(s, 0, k, n, less);
  else nthElement(s, k - 1, less);
  return Array.from(s.i.subarray(0, k));
}
