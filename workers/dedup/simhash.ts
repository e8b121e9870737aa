/**
 * 64-bit SimHash (Charikar) of a shingle list.
 *
 * Each shingle votes on 64 bit positions. Instead of 64 counters per
 * shingle, counts are kept SWAR-style: 4-bit lanes (acc[j] nibble k counts
 * bit 4k+j, 8 counts per word, 4 masked adds per 32 bits) are spread every
 * 15 shingles into 8-bit lanes, which are flushed into real counters every
 * 255 shingles. One shingle costs 8 masked adds plus a little amortized
 * spreading, instead of 64 increments.
 */

const N4 = 0x11111111;
const SPREAD = 0x0f0f0f0f;
const counts = new Int32Array(64);
const wide = new Float64Array(16);

/** A second, independent 32-bit hash of a shingle for the high word (lowbias32). */
function highWord(h: number): number {
  h ^= 0x9e3779b9;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** wide[j]: even nibbles of bit j's accumulators as bytes; wide[8+j]... see flush. */
function flush(base: number): void {
  // wide[2j] holds bytes m = bit 8m+j, wide[2j+1] bytes m = bit 8m+4+j.
  for (let j = 0; j < 4; j++) {
    const even = wide[2 * j]!;
    const odd = wide[2 * j + 1]!;
    for (let m = 0; m < 4; m++) {
      const shift = 2 ** (8 * m);
      counts[base + 8 * m + j] = counts[base + 8 * m + j]! + (Math.floor(even / shift) & 0xff);
      counts[base + 8 * m + 4 + j] = counts[base + 8 * m + 4 + j]! + (Math.floor(odd / shift) & 0xff);
    }
    wide[2 * j] = 0;
    wide[2 * j + 1] = 0;
  }
}

/**
 * Writes the fingerprint of shingles[0..count) to out[at] (high word) and
 * out[at+1] (low word). A bit is set when more than half the shingles vote for it.
 */
export function simhash64(shingles: Uint32Array, count: number, out: Uint32Array, at: number): void {
  counts.fill(0);
  let l0 = 0, l1 = 0, l2 = 0, l3 = 0, h0 = 0, h1 = 0, h2 = 0, h3 = 0;
  // 8-bit lanes: le*/lo* for the low word (even/odd nibbles), he*/ho* for the high word.
  let le0 = 0, le1 = 0, le2 = 0, le3 = 0, lo0 = 0, lo1 = 0, lo2 = 0, lo3 = 0;
  let he0 = 0, he1 = 0, he2 = 0, he3 = 0, ho0 = 0, ho1 = 0, ho2 = 0, ho3 = 0;
  let in8 = 0;
  for (let start = 0; start < count; start += 15) {
    const end = Math.min(count, start + 15);
    for (let i = start; i < end; i++) {
      const lo = shingles[i]!;
      const hi = highWord(lo);
      l0 += lo & N4; l1 += (lo >>> 1) & N4; l2 += (lo >>> 2) & N4; l3 += (lo >>> 3) & N4;
      h0 += hi & N4; h1 += (hi >>> 1) & N4; h2 += (hi >>> 2) & N4; h3 += (hi >>> 3) & N4;
    }
    le0 += l0 & SPREAD; lo0 += (l0 >>> 4) & SPREAD; le1 += l1 & SPREAD; lo1 += (l1 >>> 4) & SPREAD;
    le2 += l2 & SPREAD; lo2 += (l2 >>> 4) & SPREAD; le3 += l3 & SPREAD; lo3 += (l3 >>> 4) & SPREAD;
    he0 += h0 & SPREAD; ho0 += (h0 >>> 4) & SPREAD; he1 += h1 & SPREAD; ho1 += (h1 >>> 4) & SPREAD;
    he2 += h2 & SPREAD; ho2 += (h2 >>> 4) & SPREAD; he3 += h3 & SPREAD; ho3 += (h3 >>> 4) & SPREAD;
    l0 = l1 = l2 = l3 = h0 = h1 = h2 = h3 = 0;
    // 17 spreads of at most 15 each fill a byte lane to 255.
    if (++in8 === 17 || end === count) {
      wide[0] = le0; wide[1] = lo0; wide[2] = le1; wide[3] = lo1; wide[4] = le2; wide[5] = lo2; wide[6] = le3; wide[7] = lo3;
      flush(0);
      wide[0] = he0; wide[1] = ho0; wide[2] = he1; wide[3] = ho1; wide[4] = he2; wide[5] = ho2; wide[6] = he3; wide[7] = ho3;
      flush(32);
      le0 = le1 = le2 = le3 = lo0 = lo1 = lo2 = lo3 = 0;
      he0 = he1 = he2 = he3 = ho0 = ho1 = ho2 = ho3 = 0;
      in8 = 0;
    }
  }
  let low = 0;
  let high = 0;
  for (let b = 0; b < 32; b++) {
    if (counts[b]! * 2 > count) low |= 1 << b;
    if (counts[32 + b]! * 2 > count) high |= 1 << b;
  }
  out[at] = high >>> 0;
  out[at + 1] = low >>> 0;
}

/** The high-word hash simhash64 pairs with each shingle; exported for the reference test. */
export { highWord };
