/**
 * The matrix functions behind `nn.utils.parametrizations.orthogonal`, as
 * torch 1.13 computes them: `matrixExp` (scaling and squaring of a Taylor
 * polynomial whose degree torch's float thresholds pick), `householderProduct`
 * (torch.linalg.householder_product), `solve` (torch.linalg.solve, for the
 * Cayley map), and, on the host in float64 for the one-off initialisation,
 * `geqrf` (LAPACK's Householder QR) and `makeOrthogonal` (the Q of a QR with a
 * non-negative diagonal of R). The first two are made of recorded ops, so
 * their gradients are those of the ops; `solve` records its own. All take a
 * batch of matrices [..., n, k].
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { noGrad, record } from "../tensor/autograd.ts";
import type { Device } from "../tensor/device.ts";
import { fromHost } from "../tensor/ops/creation.ts";

/**
 * @internal The n x k identity (zeros where `n`, `k` are given with
 * `zero`), owned as an op result: made at every forward, it must go with
 * the step, not wait for the collector.
 */
export function constant(n: number, k: number, device: Device, zero = false): Tensor {
  const values = new Float32Array(n * k);
  if (!zero) { for (let i = 0; i < Math.min(n, k); i++) values[i * k + i] = 1; }
  return fromHost(values, [n, k], { device }, true);
}

/** torch 1.13's float32 thresholds of the 1-norm for the Taylor degrees 1, 2, 4, 8, 12, 18. */
const THETAS = [
  1.192092800768788e-07,
  5.978858893805233e-04,
  5.116619363445086e-02,
  5.800524627688768e-01,
  1.461661507209034e+00,
  3.010066362817634e+00,
];
const DEGREES = [1, 2, 4, 8, 12, 18];

/**
 * exp(a) of square matrices [..., n, n], as torch.matrix_exp: the degree
 * of the Taylor polynomial from the largest 1-norm of the batch (torch
 * picks one per matrix; a higher degree only adds terms below float
 * precision), scaled by 2^-s and squared s times above the last threshold.
 */
export function matrixExp(a: Tensor): Tensor {
  const n = a.shape[a.ndim - 1];
  const norm = noGrad(() => a.detach().abs().sum(-2).max().item());
  let i = THETAS.findIndex((t) => norm <= t);
  let s = 0;
  if (i < 0) {
    i = THETAS.length - 1;
    s = Math.max(0, Math.ceil(Math.log2(norm / THETAS[i])));
  }
  const m = DEGREES[i];
  const id = constant(n, n, a.device);
  const x = s > 0 ? a.div(2 ** s) : a;
  // Horner: I + x (I + x/2 (I + x/3 (... (I + x/m)))).
  let p = id.add(x.div(m));
  for (let k = m - 1; k >= 1; k--) p = id.add(x.matmul(p).div(k));
  for (let j = 0; j < s; j++) p = p.matmul(p);
  return p;
}

/**
 * The first k columns of H_0 H_1 ... H_{k-1}, H_i = I - tau_i v_i v_i^T,
 * v_i column i of `a` [..., n, k] below the diagonal with a 1 on it (what
 * is above is not read), as torch.linalg.householder_product.
 */
export function householderProduct(a: Tensor, tau: Tensor): Tensor {
  const [n, k] = a.shape.slice(-2);
  const v = a.tril(-1).add(constant(n, k, a.device));
  let q = constant(n, k, a.device);
  for (let i = k - 1; i >= 0; i--) {
    const vi = v.narrow(-1, i, 1); // [..., n, 1]
    const ti = tau.narrow(-1, i, 1).unsqueeze(-1); // [..., 1, 1]
    q = q.sub(vi.mul(ti).matmul(vi.mT.matmul(q)));
  }
  return q;
}

/** Row-major float64 copies of each matrix of a batch [..., n, k]. */
function hostMatrices(t: Tensor): { mats: Float64Array[]; n: number; k: number } {
  const [n, k] = t.shape.slice(-2);
  const all = t.contiguous().toArray();
  const mats: Float64Array[] = [];
  for (let off = 0; off < all.length; off += n * k) {
    mats.push(Float64Array.from(all.subarray(off, off + n * k)));
  }
  return { mats, n, k };
}

/** Solves m x = b in place for one n x n matrix and n x r right side (partial pivoting). */
function solveOne(m: Float64Array, b: Float64Array, n: number, r: number, where: string): void {
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let i = c + 1; i < n; i++) if (Math.abs(m[i * n + c]) > Math.abs(m[p * n + c])) p = i;
    if (m[p * n + c] === 0) {
      throw new Error(`${where}: the matrix is singular (a zero pivot at column ${c})`);
    }
    if (p !== c) {
      for (let j = 0; j < n; j++) [m[c * n + j], m[p * n + j]] = [m[p * n + j], m[c * n + j]];
      for (let j = 0; j < r; j++) [b[c * r + j], b[p * r + j]] = [b[p * r + j], b[c * r + j]];
    }
    for (let i = c + 1; i < n; i++) {
      const f = m[i * n + c] / m[c * n + c];
      if (f === 0) continue;
      for (let j = c; j < n; j++) m[i * n + j] -= f * m[c * n + j];
      for (let j = 0; j < r; j++) b[i * r + j] -= f * b[c * r + j];
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let j = 0; j < r; j++) {
      let s = b[i * r + j];
      for (let c = i + 1; c < n; c++) s -= m[i * n + c] * b[c * r + j];
      b[i * r + j] = s / m[i * n + i];
    }
  }
}

/** m^-1 b for batches [..., n, n] and [..., n, r] of one batch shape, on the host. */
function solveHost(m: Tensor, b: Tensor): Tensor {
  const { mats, n } = hostMatrices(m);
  const rhs = hostMatrices(b);
  const out = new Float32Array(rhs.mats.length * n * rhs.k);
  mats.forEach((mi, i) => {
    const bi = rhs.mats[i];
    solveOne(mi, bi, n, rhs.k, "orthogonal (cayley)");
    out.set(bi, i * n * rhs.k);
  });
  return fromHost(out, b.shape, { device: b.device }, true);
}

/**
 * m^-1 b, as torch.linalg.solve(m, b) for batches [..., n, n] and [..., n, r]
 * of the same batch shape (the Cayley map's only use), with its gradient:
 * gB = m^-T g, gM = -gB x^T.
 */
export function solve(m: Tensor, b: Tensor): Tensor {
  const x = solveHost(m, b);
  return record(x, {
    name: "linalgSolve",
    inputs: [m, b],
    saved: [m],
    backward: (g) => {
      const gb = solveHost(m.mT, g);
      return [gb.matmul(x.mT).neg(), gb];
    },
  });
}

/**
 * LAPACK's geqrf of each tall matrix (n >= k) of a batch, in float64: R on
 * and above the diagonal, the Householder vectors below it (their 1 on the
 * diagonal implied), and tau (dlarfg's: beta = -sign(alpha) ||x||, tau =
 * (beta - alpha) / beta; 0 where nothing is below the diagonal).
 */
export function geqrf(t: Tensor): { a: Float64Array[]; tau: Float64Array[]; n: number; k: number } {
  const { mats, n, k } = hostMatrices(t);
  const taus = mats.map((a) => {
    const tau = new Float64Array(k);
    for (let j = 0; j < k; j++) {
      const alpha = a[j * k + j];
      let xnorm = 0;
      for (let i = j + 1; i < n; i++) xnorm = Math.hypot(xnorm, a[i * k + j]);
      if (xnorm === 0) continue; // H = I, tau 0
      const beta = -(alpha >= 0 ? 1 : -1) * Math.hypot(alpha, xnorm);
      tau[j] = (beta - alpha) / beta;
      const scale = 1 / (alpha - beta);
      for (let i = j + 1; i < n; i++) a[i * k + j] *= scale;
      a[j * k + j] = beta;
      for (let c = j + 1; c < k; c++) {
        let w = a[j * k + c];
        for (let i = j + 1; i < n; i++) w += a[i * k + j] * a[i * k + c];
        w *= tau[j];
        a[j * k + c] -= w;
        for (let i = j + 1; i < n; i++) a[i * k + c] -= w * a[i * k + j];
      }
    }
    return tau;
  });
  return { a: mats, tau: taus, n, k };
}

/**
 * The Q of the QR of each tall matrix of a batch [..., n, k] whose R has a
 * non-negative diagonal (torch's `_make_orthogonal`: geqrf, then
 * householder_product, then each column times the sign of R's diagonal),
 * computed in float64 on the host.
 */
export function makeOrthogonal(t: Tensor): Tensor {
  const { a, tau, n, k } = geqrf(t);
  const out = new Float32Array(a.length * n * k);
  a.forEach((ai, b) => {
    const q = new Float64Array(n * k);
    for (let j = 0; j < k; j++) q[j * k + j] = 1;
    for (let j = k - 1; j >= 0; j--) {
      // q -= tau v (v^T q), v = e_j + a[j+1:, j]
      for (let c = 0; c < k; c++) {
        let w = q[j * k + c];
        for (let i = j + 1; i < n; i++) w += ai[i * k + j] * q[i * k + c];
        w *= tau[b][j];
        q[j * k + c] -= w;
        for (let i = j + 1; i < n; i++) q[i * k + c] -= w * ai[i * k + j];
      }
    }
    for (let c = 0; c < k; c++) {
      const sgn = Math.sign(ai[c * k + c]);
      for (let i = 0; i < n; i++) out[b * n * k + i * k + c] = q[i * k + c] * sgn;
    }
  });
  return fromHost(out, t.shape, { device: t.device });
}
