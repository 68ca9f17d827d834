/**
 * The integral approximations of Integrated Gradients, as Captum's
 * `approximation_methods`: for `n` steps, the points `alphas` in [0, 1] of
 * the path baseline + alpha (x - baseline) and the weight (`stepSizes`) of
 * the gradient at each.
 *
 * - "gausslegendre" (Captum's default): the Gauss-Legendre rule of n points,
 *   numpy's `leggauss(n)` moved from [-1, 1] to [0, 1] (points (1 + x) / 2,
 *   weights w / 2); exact for polynomials of degree 2n - 1.
 * - "riemann_left", "riemann_right", "riemann_middle": n steps of 1 / n at
 *   the left ends, right ends or midpoints of n equal intervals.
 * - "riemann_trapezoid": n points from 0 to 1 inclusive, weights 1 / n
 *   except 1 / (2n) at both ends (Captum's weights, which sum to
 *   1 - 1 / n, not the textbook trapezoid's 1 / (n - 1)).
 *
 * The Riemann rules need n >= 2, as Captum's.
 *
 * @module
 */

/** An approximation method of `IntegratedGradients` (Captum's `method`). */
export type IntegrationMethod =
  | "gausslegendre"
  | "riemann_right"
  | "riemann_left"
  | "riemann_middle"
  | "riemann_trapezoid";

/** The methods, Captum's `SUPPORTED_METHODS` order. */
export const INTEGRATION_METHODS: readonly IntegrationMethod[] = [
  "riemann_left",
  "riemann_right",
  "riemann_middle",
  "riemann_trapezoid",
  "gausslegendre",
];

/** numpy's `linspace(start, stop, n)`: start + i * step, the last point exactly stop. */
function linspace(start: number, stop: number, n: number): number[] {
  const step = (stop - start) / (n - 1);
  const out = Array.from({ length: n }, (_, i) => i * step + start);
  out[n - 1] = stop;
  return out;
}

/** P_n(z) and P_n'(z), by the three-term recurrence. */
function legendre(n: number, z: number): [number, number] {
  let p0 = 1, p1 = z;
  for (let k = 2; k <= n; k++) {
    const p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
    p0 = p1;
    p1 = p2;
  }
  // P_n' from P_n and P_{n-1}; for n = 1 it is 1 (p1 = z, p0 = 1).
  return [p1, n === 1 ? 1 : (n * (z * p1 - p0)) / (z * z - 1)];
}

/**
 * The n-point Gauss-Legendre rule on [-1, 1], ascending: each root of P_n
 * by Newton's method from the classic cos(pi (i + 3/4) / (n + 1/2)) guess,
 * weights 2 / ((1 - x^2) P_n'(x)^2), then made symmetric as numpy's.
 */
export function gaussLegendre(n: number): { nodes: number[]; weights: number[] } {
  const nodes = new Array<number>(n), weights = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let z = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    for (let iter = 0; iter < 100; iter++) {
      const [p, dp] = legendre(n, z);
      const dz = p / dp;
      z -= dz;
      if (Math.abs(dz) <= 1e-16) break;
    }
    const [, dp] = legendre(n, z);
    // The guesses descend: store ascending, as numpy's.
    nodes[n - 1 - i] = z;
    weights[n - 1 - i] = 2 / ((1 - z * z) * dp * dp);
  }
  const x = nodes.map((v, i) => (v - nodes[n - 1 - i]) / 2);
  const w = weights.map((v, i) => (v + weights[n - 1 - i]) / 2);
  const total = w.reduce((a, b) => a + b, 0);
  return { nodes: x, weights: w.map((v) => (v * 2) / total) };
}

/** Captum's (step sizes, alphas) of `method` for `n` steps (checked by the caller). */
export function approximationParameters(
  method: IntegrationMethod,
  n: number,
): { stepSizes: number[]; alphas: number[] } {
  if (method === "gausslegendre") {
    const { nodes, weights } = gaussLegendre(n);
    return { stepSizes: weights.map((w) => 0.5 * w), alphas: nodes.map((x) => 0.5 * (1 + x)) };
  }
  const stepSizes = new Array<number>(n).fill(1 / n);
  if (method === "riemann_trapezoid") {
    stepSizes[0] /= 2;
    stepSizes[n - 1] /= 2;
    return { stepSizes, alphas: linspace(0, 1, n) };
  }
  const alphas = method === "riemann_left"
    ? linspace(0, 1 - 1 / n, n)
    : method === "riemann_middle"
    ? linspace(1 / (2 * n), 1 - 1 / (2 * n), n)
    : linspace(1 / n, 1, n);
  return { stepSizes, alphas };
}
