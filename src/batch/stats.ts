/**
 * The figures of many tasks: pass@k, and the paired comparison of two batches. Pure functions,
 * checked against published values in test/unit/batch-stats.test.ts.
 */

/** The normal quantile of a two-sided 95% interval. */
const Z95 = 1.959963984540054;

/**
 * The unbiased estimate of pass@k from n attempts of which c passed (Chen et al. 2021): the
 * chance that at least one of k attempts drawn without replacement passed. With k > n, n.
 */
export function passAtK(n: number, c: number, k: number): number {
  if (n <= 0) return 0;
  const draws = Math.min(k, n);
  if (n - c < draws) return 1;
  // 1 - C(n-c, k) / C(n, k), as a product: the binomials overflow long before this does.
  let none = 1;
  for (let i = n - c + 1; i <= n; i++) none *= 1 - draws / i;
  return 1 - none;
}

/** log(a + b) from log a and log b. */
function logAdd(a: number, b: number): number {
  if (a === Number.NEGATIVE_INFINITY) return b;
  const [hi, lo] = a > b ? [a, b] : [b, a];
  return hi + Math.log1p(Math.exp(lo - hi));
}

/**
 * The exact (binomial) McNemar test: two-sided p-value of `onlyA` against `onlyB`, the tasks
 * one side passed and the other did not. Under no difference each discordant task goes
 * either way with chance 1/2. Summed in log space, so thousands of tasks do not underflow.
 */
export function mcnemarExact(onlyA: number, onlyB: number): number {
  const n = onlyA + onlyB;
  if (n === 0) return 1;
  const m = Math.min(onlyA, onlyB);
  let logC = 0; // log C(n, 0)
  let logTail = Number.NEGATIVE_INFINITY;
  for (let i = 0; i <= m; i++) {
    logTail = logAdd(logTail, logC);
    logC += Math.log(n - i) - Math.log(i + 1);
  }
  return Math.min(1, 2 * Math.exp(logTail - n * Math.LN2));
}

/** Wilson's score interval of x successes in n. */
export function wilson(x: number, n: number, z = Z95): [number, number] {
  if (n === 0) return [0, 1];
  const p = x / n;
  const denominator = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denominator;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** The four cells of a paired 2x2 table: both passed, only B, only A, neither. */
export interface PairedCounts {
  both: number;
  onlyB: number;
  onlyA: number;
  neither: number;
}

/**
 * A 95% interval for rate(B) - rate(A) on paired tasks: Newcombe's hybrid score interval for
 * paired data (method 10 of Newcombe 1998, Statistics in Medicine 17:2635), which combines
 * each side's Wilson interval through the correlation of the pairs. Null without pairs.
 */
export function newcombePaired(counts: PairedCounts, z = Z95): [number, number] | null {
  const { both, onlyB, onlyA, neither } = counts;
  const n = both + onlyB + onlyA + neither;
  if (n === 0) return null;
  const passedB = both + onlyB;
  const passedA = both + onlyA;
  const p1 = passedB / n;
  const p2 = passedA / n;
  const [l1, u1] = wilson(passedB, n, z);
  const [l2, u2] = wilson(passedA, n, z);
  // The correlation of the pairs, with Newcombe's correction of a positive product.
  const margins = passedB * (n - passedB) * passedA * (n - passedA);
  const product = both * neither - onlyB * onlyA;
  const corrected = product > n / 2 ? product - n / 2 : Math.min(product, 0);
  const phi = margins === 0 ? 0 : corrected / Math.sqrt(margins);
  const d = p1 - p2;
  const below = Math.sqrt(Math.max(0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2));
  const above = Math.sqrt(Math.max(0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2));
  return [Math.max(-1, d - below), Math.min(1, d + above)];
}
