/**
 * MONAI's `Orientation(axcodes=...)` on a voxel array, as nibabel computes
 * it: the file's orientation from its affine (`io_orientation`: the closest
 * axis of each voxel axis after removing zooms and shears by a polar
 * decomposition), the one asked for (`axcodes2ornt`), and the flips and
 * axis permutation between them (`ornt_transform`, `apply_orientation`).
 * Flips and permutations only: no resampling. Not public.
 *
 * @module
 */

/** Per voxel axis: the world axis it runs along (0 = R/L, 1 = A/P, 2 = S/I) and its sign. */
export type Ornt = [axis: number, sign: 1 | -1][];

/** The codes for the positive and negative direction of each world axis. */
const PAIRS = [["R", "L"], ["A", "P"], ["S", "I"]] as const;

/**
 * `axcodes` checked: three capital letters, one from each of R/L, A/P,
 * S/I (MONAI's `axcodes`); errors say what to write.
 */
export function checkAxcodes(where: string, v: unknown): string {
  const example = 'orientation: "RAS" (or "LPS", ...: one of R/L, A/P, S/I each)';
  if (typeof v !== "string") {
    throw new Error(
      `${where}: orientation must be axis codes, e.g. ${example}, got ${
        Array.isArray(v) ? `an array (write "${v.join("")}")` : typeof v
      }`,
    );
  }
  if (/^[rlapsi]{3}$/i.test(v) && v !== v.toUpperCase()) {
    throw new Error(`${where}: orientation codes are capitals: write "${v.toUpperCase()}"`);
  }
  const ok = v.length === 3 &&
    PAIRS.every((pair) =>
      [...v].filter((c) => (pair as readonly string[]).includes(c)).length === 1
    );
  if (!ok) {
    throw new Error(
      `${where}: orientation ${JSON.stringify(v)} is not three axis codes with one of each ` +
        `pair R/L, A/P, S/I; write e.g. ${example}`,
    );
  }
  return v;
}

/** nibabel's `axcodes2ornt`: "RAS" -> [[0, 1], [1, 1], [2, 1]]. */
export function axcodesToOrnt(axcodes: string): Ornt {
  return [...axcodes].map((c) => {
    const axis = PAIRS.findIndex((p) => (p as readonly string[]).includes(c));
    return [axis, PAIRS[axis][0] === c ? 1 : -1];
  });
}

/** Eigenvalues and eigenvectors (columns of `v`) of a symmetric 3x3 matrix, by Jacobi rotations. */
function eigenSym3(m: number[][]): { values: number[]; vectors: number[][] } {
  const a = m.map((r) => [...r]);
  const v = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
  for (let sweep = 0; sweep < 60; sweep++) {
    const off = a[0][1] ** 2 + a[0][2] ** 2 + a[1][2] ** 2;
    if (off < 1e-300) break;
    for (const [p, q] of [[0, 1], [0, 2], [1, 2]]) {
      if (a[p][q] === 0) continue;
      const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1), s = t * c;
      for (let k = 0; k < 3; k++) {
        const akp = a[k][p], akq = a[k][q];
        a[k][p] = c * akp - s * akq;
        a[k][q] = s * akp + c * akq;
      }
      for (let k = 0; k < 3; k++) {
        const apk = a[p][k], aqk = a[q][k];
        a[p][k] = c * apk - s * aqk;
        a[q][k] = s * apk + c * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = v[k][p], vkq = v[k][q];
        v[k][p] = c * vkp - s * vkq;
        v[k][q] = s * vkp + c * vkq;
      }
    }
  }
  return { values: [a[0][0], a[1][1], a[2][2]], vectors: v };
}

/**
 * nibabel's `io_orientation(affine)` for a 3x4 (or 4x4) affine: per voxel
 * axis its closest world axis and sign, or null for an axis the affine
 * does not map (a zero column).
 */
export function ioOrientation(affine: number[][]): (Ornt[number] | null)[] {
  const rzs = [0, 1, 2].map((r) => [0, 1, 2].map((c) => affine[r][c]));
  const zooms = [0, 1, 2].map((c) => Math.hypot(rzs[0][c], rzs[1][c], rzs[2][c]) || 1);
  const rs = rzs.map((row) => row.map((x, c) => x / zooms[c]));
  // The polar factor R = P Q of RS = P S Q (nibabel's SVD), from the
  // eigenvectors of RS^T RS: R = sum over kept k of (RS v_k / s_k) v_k^T.
  const ata = [0, 1, 2].map((i) =>
    [0, 1, 2].map((j) => rs[0][i] * rs[0][j] + rs[1][i] * rs[1][j] + rs[2][i] * rs[2][j])
  );
  const { values, vectors } = eigenSym3(ata);
  const s = values.map((x) => Math.sqrt(Math.max(0, x)));
  const tol = Math.max(...s) * 3 * 2.220446049250313e-16;
  const r = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  for (let k = 0; k < 3; k++) {
    if (!(s[k] > tol)) continue;
    const vk = [0, 1, 2].map((i) => vectors[i][k]);
    const u = [0, 1, 2].map((row) =>
      (rs[row][0] * vk[0] + rs[row][1] * vk[1] + rs[row][2] * vk[2]) / s[k]
    );
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) r[i][j] += u[i] * vk[j];
  }
  const out: (Ornt[number] | null)[] = [];
  for (let inAx = 0; inAx < 3; inAx++) {
    const col = [0, 1, 2].map((row) => r[row][inAx]);
    // np.allclose(col, 0): every |x| <= 1e-8.
    if (col.every((x) => Math.abs(x) <= 1e-8)) {
      out.push(null);
      continue;
    }
    let outAx = 0;
    for (let k = 1; k < 3; k++) if (Math.abs(col[k]) > Math.abs(col[outAx])) outAx = k;
    out.push([outAx, col[outAx] < 0 ? -1 : 1]);
    r[outAx] = [0, 0, 0];
  }
  return out;
}

/**
 * nibabel's `ornt_transform(start, end)`: per voxel axis of the file, the
 * output axis it becomes and whether it is flipped.
 */
export function orntTransform(start: Ornt, end: Ornt): Ornt {
  return start.map(([axis, sign]) => {
    const to = end.findIndex(([a]) => a === axis);
    return [to, end[to][1] === sign ? 1 : -1];
  });
}

/** The names of an orientation: [[0, -1], [1, -1], [2, 1]] -> "LPS". */
export function orntToAxcodes(ornt: (Ornt[number] | null)[]): string {
  return ornt.map((o) => o ? PAIRS[o[0]][o[1] > 0 ? 0 : 1] : "?").join("");
}
