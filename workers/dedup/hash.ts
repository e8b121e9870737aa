/**
 * 32-bit hashing on char codes. Everything here works on numbers so the hot
 * loops never allocate substrings.
 */

/** Murmur3's finalizer: spreads every input bit over the whole word. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Mixes b into a; order matters, so (a,b) and (b,a) differ. */
export function combine(a: number, b: number): number {
  return fmix32((Math.imul(a, 0x9e3779b1) ^ b) + 0x7f4a7c15);
}

/** FNV-1a over s[start, end), finalized. */
export function hashRange(s: string, start: number, end: number, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = start; i < end; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return fmix32(h);
}

/** Bits set in a 32-bit word. */
export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Hamming distance between two 64-bit values held as (hi, lo) pairs. */
export function hamming64(aHi: number, aLo: number, bHi: number, bLo: number): number {
  return popcount32((aHi ^ bHi) >>> 0) + popcount32((aLo ^ bLo) >>> 0);
}

interface BunHash {
  wyhash(data: string, seed?: bigint): bigint;
}
const bunHash: BunHash | undefined = (globalThis as { Bun?: { hash?: BunHash } }).Bun?.hash;

/**
 * A 64-bit hash of a whole string into out[at] (high) and out[at+1] (low).
 * Native wyhash under Bun (the cache check hashes every question of a group
 * on every run, so this is worth it); two seeded FNV passes elsewhere.
 */
export function hashString64(s: string, seed: number, out: Uint32Array, at: number): void {
  if (bunHash !== undefined) {
    const h = bunHash.wyhash(s, BigInt(seed >>> 0));
    out[at] = Number(h >> 32n);
    out[at + 1] = Number(h & 0xffffffffn);
    return;
  }
  out[at] = hashRange(s, 0, s.length, seed);
  out[at + 1] = hashRange(s, 0, s.length, seed ^ 0x5bd1e995);
}
