// The two-sided two-sample Kolmogorov–Smirnov p-value, ported from scipy 1.17
// (`scipy.stats.ks_2samp(..., alternative='two-sided', method='auto')`) so that Loopline's KS drift
// test reports the same number as scipy and Evidently:
//
// - `auto` takes the exact distribution when both samples have at most 10,000 values, else the
//   asymptotic one;
// - exact: Hodges' lattice-path counts (`_compute_prob_outside_square` for equal sizes, the
//   "inside method" recursion of Viehmann (arXiv:2102.08037) otherwise, `_stats_pythran.py`);
//   when that overflows, scipy falls back to the asymptotic formula and so does this;
// - asymptotic: `kstwo.sf(D, round(n·m/(n+m)))`, the one-sample two-sided Kolmogorov distribution
//   evaluated as `scipy.stats._ksstats._kolmogn` does (Simard & L'Ecuyer's choice between
//   Ruben–Gambino, Durbin's matrix method (Marsaglia–Tsang–Wang), Pomeranz's recursion, Pelz–Good
//   and 2·Smirnov's one-sided tail).
//
// The statistic itself is computed elsewhere (in ClickHouse) and arrives as an exact integer:
// `dTimesSizes` = D · n₁ · n₂ = max |n₂·#ref≤x − n₁·#cur≤x| over the union of both samples.

const maxAutoExactSize = 10_000;

export interface KsTestResult {
  /** The statistic D = max |F_ref − F_cur|. */
  readonly statistic: number;
  readonly pValue: number;
  /** Which computation scipy's `method='auto'` chose (and this port followed). */
  readonly mode: 'exact' | 'asymptotic';
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

const clip = (p: number) => Math.min(1, Math.max(0, p));

/**
 * The KS test from the integer statistic: `dTimesSizes` = D·n₁·n₂ (an integer, computed exactly in
 * SQL), `n1` and `n2` the two sample sizes (after dropping missing values).
 */
export function ksTwoSampleTest(dTimesSizes: number, n1: number, n2: number): KsTestResult {
  if (!(Number.isInteger(n1) && Number.isInteger(n2) && n1 > 0 && n2 > 0)) throw new RangeError(`KS test needs two non-empty samples (sizes ${n1} and ${n2})`);
  const g = gcd(n1, n2);
  const statistic = dTimesSizes / n1 / n2;
  if (Math.max(n1, n2) <= maxAutoExactSize) {
    const lcm = (n1 / g) * n2;
    const h = Math.round(dTimesSizes / g);
    const d = h / lcm;
    if (h === 0) return { statistic: d, pValue: 1, mode: 'exact' };
    const exact = n1 === n2 ? probabilityOutsideSquare(n1, h) : outerProbabilityInsideMethod(n1, n2, g, h);
    if (Number.isFinite(exact) && exact >= 0 && exact <= 1) return { statistic: d, pValue: exact, mode: 'exact' };
    return { statistic: d, pValue: asymptoticPValue(d, n1, n2), mode: 'asymptotic' };
  }
  return { statistic, pValue: asymptoticPValue(statistic, n1, n2), mode: 'asymptotic' };
}

function asymptoticPValue(d: number, n1: number, n2: number): number {
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const en = (m * n) / (m + n);
  return clip(kolmogorovTwoSidedSurvival(roundHalfEven(en), d));
}

/** numpy's `np.round` (round half to even). */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Pr(D_{n,n} ≥ h/n): scipy's `_compute_prob_outside_square`. */
export function probabilityOutsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k -= 1) {
    let p1 = 1;
    for (let j = 0; j < h; j += 1) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    p = p1 * (1 - p);
  }
  return 2 * p;
}

/** The share of lattice paths that leave the band |x/m − y/n| < h/lcm: scipy's `_compute_outer_prob_inside_method`. */
export function outerProbabilityInsideMethod(m0: number, n0: number, g: number, h: number): number {
  const [m, n] = m0 < n0 ? [n0, m0] : [m0, n0];
  const mg = Math.trunc(m / g);
  const ng = Math.trunc(n / g);
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const a = new Float64Array(lenA).fill(1);
  for (let j = minj; j < maxj; j += 1) a[j] = 0;
  for (let i = 1; i <= m; i += 1) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let value = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj += 1) {
      const j = jj + minj;
      value = (a[jj + minj - lastminj]! * i + value * j) / (i + j);
      a[jj] = value;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) for (let k = maxj - minj; k < maxj - minj + (lastlen - curlen); k += 1) a[k] = 1;
  }
  return a[maxj - minj - 1]!;
}

// ---------------------------------------------------------------------------------------------
// The one-sample two-sided Kolmogorov distribution (scipy.stats._ksstats).

const e128 = 128;
const ep128 = 2 ** 128;
const em128 = 2 ** -128;
const logTwoPi = Math.log(2 * Math.PI);
const sqrtTwoPi = Math.sqrt(2 * Math.PI);
const minLog = -708;
const sqrt3 = Math.sqrt(3);
const piSquared = Math.PI ** 2;
const piFour = Math.PI ** 4;
const piSix = Math.PI ** 6;
const stirlingCoefficients = [
  -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3, 8.4175084175084175084e-4,
  -5.952380952380952381e-4, 7.9365079365079365079e-4, -2.7777777777777777778e-3, 8.3333333333333333333e-2,
];

function polyval(coefficients: readonly number[], x: number): number {
  let value = 0;
  for (const c of coefficients) value = value * x + c;
  return value;
}

/** log(n! / n^n) by Stirling's series with n·log(n) removed up front. */
function logFactorialOverPower(n: number): number {
  const rn = 1 / n;
  return Math.log(n) / 2 - n + logTwoPi / 2 + rn * polyval(stirlingCoefficients, rn / n);
}

/** Pr(D_n ≥ x): scipy's `_kolmogn(n, x, cdf=False)`, i.e. `kstwo.sf(x, n)`. */
export function kolmogorovTwoSidedSurvival(n: number, x: number): number {
  if (!(Number.isInteger(n) && n > 0)) return Number.NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    let prob: number;
    if (n <= 140) {
      prob = 1;
      for (let i = 1; i <= n; i += 1) prob *= i * (1 / n) * (2 * t - 1);
    } else {
      prob = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    }
    return clip(1 - prob);
  }
  if (t >= n - 1) return clip(2 * (1 - x) ** n);
  if (x >= 0.5) return clip(2 * smirnovSurvival(n, x));
  const nxSquared = t * x;
  if (n <= 140) {
    if (nxSquared <= 0.754693) return clip(1 - durbinMatrixCdf(n, x));
    if (nxSquared <= 4) return clip(1 - pomeranzCdf(n, x));
    return clip(2 * smirnovSurvival(n, x));
  }
  if (nxSquared >= 370) return 0;
  if (nxSquared >= 2.2) return clip(2 * smirnovSurvival(n, x));
  let cdf: number;
  if (nxSquared >= 18) cdf = 1;
  else if (n <= 100_000 && n * x ** 1.5 <= 1.4) cdf = durbinMatrixCdf(n, x);
  else cdf = pelzGoodCdf(n, x);
  return clip(1 - cdf);
}

function matmul(a: Float64Array, b: Float64Array, size: number): Float64Array {
  const out = new Float64Array(size * size);
  for (let i = 0; i < size; i += 1) {
    for (let k = 0; k < size; k += 1) {
      const aik = a[i * size + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < size; j += 1) out[i * size + j]! += aik * b[k * size + j]!;
    }
  }
  return out;
}

/** Pr(D_n ≤ d) by Durbin's matrix algorithm as Marsaglia, Tsang and Wang compute it (`_kolmogn_DMTW`). */
export function durbinMatrixCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  let hMatrix: Float64Array = new Float64Array(m * m);
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j += 1) {
    v[j - 1] = 1 - h ** j;
    w[j - 1] = fac;
    fac /= j;
    v[j - 1]! *= fac;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;
  for (let i = 1; i < m; i += 1) for (let r = i - 1; r < m; r += 1) hMatrix[r * m + i] = w[r - (i - 1)]!;
  for (let r = 0; r < m; r += 1) hMatrix[r * m] = v[r]!;
  for (let c = 0; c < m; c += 1) hMatrix[(m - 1) * m + c] = v[m - 1 - c]!;

  let power: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i += 1) power[i * m + i] = 1;
  let nn = n;
  let exponent = 0;
  let hExponent = 0;
  while (nn > 0) {
    if (nn % 2) {
      power = matmul(power, hMatrix, m);
      exponent += hExponent;
    }
    hMatrix = matmul(hMatrix, hMatrix, m);
    hExponent *= 2;
    if (Math.abs(hMatrix[(k - 1) * m + (k - 1)]!) > ep128) {
      for (let i = 0; i < hMatrix.length; i += 1) hMatrix[i]! /= ep128;
      hExponent += e128;
    }
    nn = Math.floor(nn / 2);
  }
  let p = power[(k - 1) * m + (k - 1)]!;
  for (let i = 1; i <= n; i += 1) {
    p = (i * p) / n;
    if (Math.abs(p) < em128) {
      p *= ep128;
      exponent -= e128;
    }
  }
  if (exponent !== 0) p = p * 2 ** exponent;
  return clip(p);
}

function pomeranzInterval(i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const ip1div2 = Math.floor((i + 1) / 2);
    const ip1mod2 = (i + 1) % 2;
    if (ip1mod2 === 0) {
      if (ip1div2 === n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = ip1div2 - 1 - ll - roundf - 1;
        j2 = ip1div2 + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = ip1div2 - 1 - ll - 1;
      j2 = ip1div2 + ll + roundf - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** Pr(D_n ≤ x) by Pomeranz's recursion (`_kolmogn_Pomeranz`). */
export function pomeranzCdf(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const npwrs = 2 * (ll + 1);
  const gpower = new Float64Array(npwrs);
  const twogpower = new Float64Array(npwrs);
  const onem2gpower = new Float64Array(npwrs);
  gpower[0] = 1;
  twogpower[0] = 1;
  onem2gpower[0] = 1;
  let exponent = 0;
  const gOverN = g / n;
  const twoGOverN = (2 * g) / n;
  const oneMinusTwoGOverN = (1 - 2 * g) / n;
  for (let m = 1; m < npwrs; m += 1) {
    gpower[m] = (gpower[m - 1]! * gOverN) / m;
    twogpower[m] = (twogpower[m - 1]! * twoGOverN) / m;
    onem2gpower[m] = (onem2gpower[m - 1]! * oneMinusTwoGOverN) / m;
  }
  let v0 = new Float64Array(npwrs);
  let v1 = new Float64Array(npwrs);
  v1[0] = 1;
  let v0s = 0;
  let v1s = 0;
  let [j1, j2] = pomeranzInterval(0, n, ll, ceilf, roundf);
  for (let i = 1; i < 2 * n + 2; i += 1) {
    const k1 = j1;
    [v0, v1] = [v1, v0];
    [v0s, v1s] = [v1s, v0s];
    v1.fill(0);
    [j1, j2] = pomeranzInterval(i, n, ll, ceilf, roundf);
    const pwrs = i === 1 || i === 2 * n + 1 ? gpower : i % 2 ? twogpower : onem2gpower;
    const ln2 = j2 - k1 + 1;
    if (ln2 > 0) {
      // np.convolve(V0[k1 - V0s : k1 - V0s + ln2], pwrs[:ln2]), entries conv_start.. of it.
      const start = k1 - v0s;
      const convStart = j1 - k1;
      const convLength = j2 - j1 + 1;
      for (let out = 0; out < convLength; out += 1) {
        const index = convStart + out;
        let sum = 0;
        for (let p = Math.max(0, index - (ln2 - 1)); p <= Math.min(index, ln2 - 1); p += 1) sum += (v0[start + p] ?? 0) * pwrs[index - p]!;
        v1[out] = sum;
      }
      let max = 0;
      for (let q = 0; q < v1.length; q += 1) max = Math.max(max, v1[q]!);
      if (max > 0 && max < em128) {
        for (let q = 0; q < v1.length; q += 1) v1[q]! *= ep128;
        exponent -= e128;
      }
      v1s = v0s + j1 - k1;
    }
  }
  let answer = v1[n - v1s]!;
  for (let m = 1; m <= n; m += 1) {
    if (Math.abs(answer) > ep128) {
      answer *= em128;
      exponent += e128;
    }
    answer *= m;
  }
  if (exponent !== 0) answer = answer * 2 ** exponent;
  return clip(answer);
}

/** The Pelz–Good approximation of Pr(D_n ≤ x) (`_kolmogn_PelzGood`). */
export function pelzGoodCdf(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const zsquared = z ** 2;
  const zthree = z ** 3;
  const zfour = z ** 4;
  const zsix = z ** 6;
  const qlog = -piSquared / 8 / zsquared;
  if (qlog < minLog) return 0;
  let q = Math.exp(qlog);
  const k1a = -zsquared;
  const k1b = piSquared / 4;
  const k2a = 6 * zsix + 2 * zfour;
  const k2b = ((2 * zfour - 5 * zsquared) * piSquared) / 4;
  const k2c = (piFour * (1 - 2 * zsquared)) / 16;
  const k3d = (piSix * (5 - 30 * zsquared)) / 64;
  const k3c = (piFour * (-60 * zsquared + 212 * zfour)) / 16;
  const k3b = (piSquared * (135 * zfour - 96 * zsix)) / 4;
  const k3a = -30 * zsix - 90 * z ** 8;
  const sums = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k -= 1) {
    const m = 2 * k - 1;
    const msquared = m ** 2;
    const mfour = m ** 4;
    const msix = m ** 6;
    const qpower = q ** (8 * k);
    const coefficients = [1, k1a + k1b * msquared, k2a + k2b * msquared + k2c * mfour, k3a + k3b * msquared + k3c * mfour + k3d * msix];
    for (let i = 0; i < 4; i += 1) sums[i] = sums[i]! * qpower + coefficients[i]!;
  }
  const divisors = [z, 6 * zfour, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i += 1) sums[i] = (sums[i]! * q * sqrtTwoPi) / divisors[i]!;
  q = Math.exp(-piSquared / 2 / zsquared);
  const sqrt3z = sqrt3 * z;
  let k2extra = 0;
  let k3extra = 0;
  for (let k = maxk; k > 0; k -= 1) {
    const ksquared = k * k;
    const qpower = q ** ksquared;
    k2extra += ksquared * qpower;
    const kspi = Math.PI * k;
    k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksquared * qpower;
  }
  sums[2]! += (k2extra * piSquared * sqrtTwoPi) / (-36 * zthree);
  sums[3]! += (k3extra * piSquared * sqrtTwoPi) / (216 * zsix);
  let total = 0;
  for (let i = 0; i < 4; i += 1) total += sums[i]! / n ** (i / 2);
  return total;
}

// ---------------------------------------------------------------------------------------------
// Smirnov's one-sided distribution: Pr(D_n⁺ ≥ x) (scipy.special.smirnov, xsf/cephes kolmogorov.h).

const smirnovMaxComputeN = 1_000_000;

/** a·b as an unevaluated sum p + e, exactly (Dekker's product with Veltkamp's split). */
function exactProduct(a: number, b: number): [number, number] {
  const p = a * b;
  const split = (v: number): [number, number] => {
    const c = 134_217_729 * v;
    const high = c - (c - v);
    return [high, v - high];
  };
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}
const minLogDouble = -708.3964185322641;

/**
 * Pr(D_n⁺ ≥ x) = x · Σ_{v=0}^{⌈n(1−x)⌉−1} C(n,v) (1 − x − v/n)^(n−v) (x + v/n)^(v−1)
 * (Birnbaum–Tingey). Every term is positive, so the sum is taken in logs term by term, with
 * compensated summation, instead of scipy's double-double arithmetic: the result agrees with
 * scipy's to about 1e-12 relative for the n (≤ 10⁶) KS tests meet.
 */
export function smirnovSurvival(n: number, x: number): number {
  if (!(n > 0 && x >= 0 && x <= 1)) return Number.NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  // floor(n·x) and its remainder from the exact product (scipy uses double-double here): 10·0.3
  // rounds to 3 in doubles, but the double 0.3 is a little less than 0.3, so ⌊n·x⌋ is 2.
  const [product, error] = exactProduct(n, x);
  let nxFloor = Math.floor(product);
  if (nxFloor === product && error < 0) nxFloor -= 1;
  let alpha = product - nxFloor + error;
  if (alpha === 1) {
    nxFloor += 1;
    alpha = 0;
  }
  if (nxFloor === 0 || (nxFloor === 1 && alpha === 0)) return 1 - x * (1 + x) ** (n - 1);
  if (-2 * n * x * x < minLogDouble) return 0;
  if (nxFloor >= n - 1) return (1 - x) ** n;
  if (n > smirnovMaxComputeN) {
    const logp = -((6 * n * x + 1) ** 2) / 18 / n;
    return logp < -Math.LN2 ? Math.exp(logp) : 1 - -Math.expm1(logp);
  }
  // Terms v = 0 … ⌈n(1 − x)⌉ − 1: the next one has a zero base.
  const lastTerm = n - nxFloor - 1;
  let logBinomial = 0;
  let sum = 0;
  let compensation = 0;
  for (let v = 0; v <= lastTerm; v += 1) {
    const up = x + v / n;
    const logTerm = logBinomial + (n - v) * Math.log1p(-up) + (v - 1) * Math.log(up);
    const term = Math.exp(logTerm);
    const y = term - compensation;
    const next = sum + y;
    compensation = next - sum - y;
    sum = next;
    logBinomial += Math.log((n - v) / (v + 1));
  }
  return clip(x * sum);
}
