/**
 * A small seeded pseudo-random generator for simulations, dataset splits, fuzzing and benches, so every
 * run of a test or benchmark sees the same numbers. Not for anything secret.
 */

/**
 * Mulberry32: 32-bit state, period 2³², good enough for simulation. Returns a function giving
 * uniform numbers in [0, 1).
 *
 * @example const rand = seededRandom(42); rand() // 0.6011…
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Standard normal deviates from a uniform source (Box–Muller); used for log-normal shadowing.
 *
 * @example const gauss = seededNormal(seededRandom(7)); const shadowDb = 4 * gauss();
 */
export function seededNormal(rand: () => number): () => number {
  let spare = NaN;
  return () => {
    if (!Number.isNaN(spare)) {
      const s = spare;
      spare = NaN;
      return s;
    }
    let u = rand();
    while (u <= 1e-12) u = rand();
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/**
 * A seeded Fisher–Yates permutation of 0…n−1 (dataset splits).
 *
 * @example shuffledIndices(5, seededRandom(1)) // e.g. [3, 0, 4, 1, 2]
 */
export function shuffledIndices(n: number, rand: () => number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}
