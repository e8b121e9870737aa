import { describe, expect, it } from 'bun:test';
import { extract, shingleCopy } from '../../workers/dedup/features.ts';
import { fmix32, hamming64, popcount32 } from '../../workers/dedup/hash.ts';
import { highWord, simhash64 } from '../../workers/dedup/simhash.ts';
import { jaccard, jaccardUpperBound } from '../../workers/dedup/verify.ts';

function fp(text: string): [number, number] {
  const e = extract(text);
  const out = new Uint32Array(2);
  simhash64(e.shingles, e.count, out, 0);
  return [out[0]!, out[1]!];
}

/** The textbook definition, one counter per bit, to check the packed-lane version against. */
function naiveSimhash(shingles: Uint32Array, hiOf: (h: number) => number): [number, number] {
  const c = new Array<number>(64).fill(0);
  for (const lo of shingles) {
    const hi = hiOf(lo);
    for (let b = 0; b < 32; b++) {
      c[b]! += (lo >>> b) & 1;
      c[32 + b]! += (hi >>> b) & 1;
    }
  }
  let lo = 0, hi = 0;
  for (let b = 0; b < 32; b++) {
    if (c[b]! * 2 > shingles.length) lo |= 1 << b;
    if (c[32 + b]! * 2 > shingles.length) hi |= 1 << b;
  }
  return [hi >>> 0, lo >>> 0];
}

describe('extract', () => {
  it('gives sorted distinct shingles', () => {
    const e = extract('已知函数已知函数');
    const s = shingleCopy(e);
    for (let i = 1; i < s.length; i++) expect(s[i]!).toBeGreaterThan(s[i - 1]!);
  });

  it('formula key differs when an operator or number changes, not when words do', () => {
    const k = (t: string) => extract(t).formulaKey;
    expect(k('x^2+1=0')).not.toBe(k('x^2-1=0'));
    expect(k('x^2+1=0')).not.toBe(k('x^2+2=0'));
    expect(k('f(x-1)+1')).not.toBe(k('f(x+1)-1'));
    expect(k('求方程x^2+1=0的解')).toBe(k('解方程x^2+1=0'));
  });

  it('keeps tiny texts as unigrams', () => {
    expect(extract('甲').count).toBe(1);
    expect(extract('').count).toBe(0);
  });
});

describe('simhash64', () => {
  it('matches the one-counter-per-bit definition, across lane spreads and flushes', () => {
    for (const size of [1, 14, 15, 16, 254, 255, 256, 1000]) {
      const xs = Uint32Array.from({ length: size }, (_, i) => fmix32(i * 7 + size));
      const o = new Uint32Array(2);
      simhash64(xs, size, o, 0);
      expect([o[0]!, o[1]!]).toEqual(naiveSimhash(xs, highWord));
    }
    const long = Array.from({ length: 400 }, (_, i) => `w${i.toString(36)}`).join(' ');
    const e = extract(long);
    expect(e.count).toBeGreaterThan(255);
    const s = shingleCopy(e);
    const out = new Uint32Array(2);
    simhash64(s, s.length, out, 0);
    expect([out[0]!, out[1]!]).toEqual(naiveSimhash(s, highWord));
  });

  it('keeps near texts near and far texts far', () => {
    const a = fp('在直角坐标系xOy中,曲线C的参数方程为x=2cosθ,y=4sinθ,直线l的参数方程为x=1+tcosα,y=2+tsinα,求C和l的直角坐标方程');
    const b = fp('在直角坐标系xOy中,曲线C的参数方程为x=2cosθ,y=4sinθ,直线l的参数方程为x=1+tcosα,y=2+tsinα,求C与l的直角坐标方程');
    const c = fp('阅读下面的材料,根据要求写作。人们因技术发展得以更好地掌控时间,但也有人因此成了时间的仆人。');
    expect(hamming64(a[0], a[1], b[0], b[1])).toBeLessThanOrEqual(8);
    expect(hamming64(a[0], a[1], c[0], c[1])).toBeGreaterThan(16);
  });
});

describe('hash helpers', () => {
  it('popcount32 counts bits', () => {
    expect(popcount32(0)).toBe(0);
    expect(popcount32(0xffffffff)).toBe(32);
    expect(popcount32(0x80000001)).toBe(2);
  });
});

describe('jaccard', () => {
  it('is |A∩B| / |A∪B| on sorted sets', () => {
    expect(jaccard(Uint32Array.of(1, 2, 3), Uint32Array.of(2, 3, 4))).toBeCloseTo(0.5);
    expect(jaccard(Uint32Array.of(), Uint32Array.of())).toBe(1);
    expect(jaccard(Uint32Array.of(1), Uint32Array.of())).toBe(0);
    expect(jaccardUpperBound(8, 10)).toBeCloseTo(0.8);
  });
});
