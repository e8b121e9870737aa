/**
 * 64-bit SimHash (Charikar) of a shingle set.
 *
 * Each shingle votes +1/-1 on 64 bit positions. Instead of 64 counters per
 * shingle, eight 32-bit accumulators per half hold four 8-bit lane counters
 * each (lane k of acc[j] counts bit 8k+j), so one shingle costs 16 masked
 * adds. Lanes are flushed before they can overflow (255 shingles).
 */
import { fmix32 } from './hash.ts';

const HI_SALT = 0x9e3779b9;
const LANES = 0x01010101;
const counts = new Int32Array(64);

function flush(acc: Int32Array, base: number): void {
  for (let j = 0; j < 8; j++) {
    const a = acc[j]!;
    counts[base + j] = counts[base + j]! + (a & 0xff);
    counts[base + 8 + j] = counts[base + 8 + j]! + ((a >>> 8) & 0xff);
    counts[base + 16 + j] = counts[base + 16 + j]! + ((a >>> 16) & 0xff);
    counts[base + 24 + j] = counts[base + 24 + j]! + ((a >>> 24) & 0xff);
    acc[j] = 0;
  }
}

const accLo = new Int32Array(8);
const accHi = new Int32Array(8);

/**
 * Writes the fingerprint of shingles[0..count) to out[at] (high word) and
 * out[at+1] (low word). A bit is set when more than half the shingles vote for it.
 */
export function simhash64(shingles: Uint32Array, count: number, out: Uint32Array, at: number): void {
  counts.fill(0);
  let l0 = 0, l1 = 0, l2 = 0, l3 = 0, l4 = 0, l5 = 0, l6 = 0, l7 = 0;
  let h0 = 0, h1 = 0, h2 = 0, h3 = 0, h4 = 0, h5 = 0, h6 = 0, h7 = 0;
  let inLanes = 0;
  for (let i = 0; i < count; i++) {
    const lo = shingles[i]!;
    const hi = fmix32(lo ^ HI_SALT);
    l0 += lo & LANES; l1 += (lo >>> 1) & LANES; l2 += (lo >>> 2) & LANES; l3 += (lo >>> 3) & LANES;
    l4 += (lo >>> 4) & LANES; l5 += (lo >>> 5) & LANES; l6 += (lo >>> 6) & LANES; l7 += (lo >>> 7) & LANES;
    h0 += hi & LANES; h1 += (hi >>> 1) & LANES; h2 += (hi >>> 2) & LANES; h3 += (hi >>> 3) & LANES;
    h4 += (hi >>> 4) & LANES; h5 += (hi >>> 5) & LANES; h6 += (hi >>> 6) & LANES; h7 += (hi >>> 7) & LANES;
    if (++inLanes === 255) {
      accLo[0] = l0; accLo[1] = l1; accLo[2] = l2; accLo[3] = l3; accLo[4] = l4; accLo[5] = l5; accLo[6] = l6; accLo[7] = l7;
      accHi[0] = h0; accHi[1] = h1; accHi[2] = h2; accHi[3] = h3; accHi[4] = h4; accHi[5] = h5; accHi[6] = h6; accHi[7] = h7;
      flush(accLo, 0);
      flush(accHi, 32);
      l0 = l1 = l2 = l3 = l4 = l5 = l6 = l7 = 0;
      h0 = h1 = h2 = h3 = h4 = h5 = h6 = h7 = 0;
      inLanes = 0;
    }
  }
  accLo[0] = l0; accLo[1] = l1; accLo[2] = l2; accLo[3] = l3; accLo[4] = l4; accLo[5] = l5; accLo[6] = l6; accLo[7] = l7;
  accHi[0] = h0; accHi[1] = h1; accHi[2] = h2; accHi[3] = h3; accHi[4] = h4; accHi[5] = h5; accHi[6] = h6; accHi[7] = h7;
  flush(accLo, 0);
  flush(accHi, 32);
  let lo = 0;
  let hi = 0;
  for (let b = 0; b < 32; b++) {
    if (counts[b]! * 2 > count) lo |= 1 << b;
    if (counts[32 + b]! * 2 > count) hi |= 1 << b;
  }
  out[at] = hi >>> 0;
  out[at + 1] = lo >>> 0;
}
