/** A small seeded PRNG and junk makers, so every fuzz run sends the same requests. */
export function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  return { next, int, pick };
}
export type Rng = ReturnType<typeof prng>;

const JUNK_PIECES = [
  '\u0000',
  '\ud800',
  '\udfff',
  '\u202e',
  '\u200b',
  '\ufeff',
  '\uffff',
  '𝕏',
  '🧨',
  '\\',
  '"',
  "'",
  '<script>alert(1)</script>',
  '${{7*7}}',
  '%00',
  '%',
  '../../etc/passwd',
  '\r\n',
  'Ω≈ç√',
  '单选题',
  'NaN',
  '-0',
  '1e309',
  '\u0085',
  '\x7f',
];

/** A string of control characters, lone surrogates, bidi marks, emoji and injection-looking text. */
export function junk(rng: Rng, pieces = rng.int(1, 12)): string {
  let out = '';
  for (let i = 0; i < pieces; i++) out += rng.pick(JUNK_PIECES);
  return out;
}

export function deepObject(depth: number): unknown {
  let value: unknown = { leaf: true };
  for (let i = 0; i < depth; i++) value = { a: value, b: [i] };
  return value;
}

export function deepArray(depth: number): unknown {
  let value: unknown = [];
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

/** A value of a random JSON (or not quite JSON) kind. */
export function anyValue(rng: Rng): unknown {
  switch (rng.int(0, 12)) {
    case 0:
      return null;
    case 1:
      return rng.int(-1e9, 1e9);
    case 2:
      return -rng.next() * 1e308;
    case 3:
      return junk(rng);
    case 4:
      return 'x'.repeat(rng.int(1000, 200_000));
    case 5:
      return [junk(rng), rng.int(-5, 5), null];
    case 6:
      return { nested: { deeper: junk(rng) } };
    case 7:
      return deepObject(rng.int(20, 200));
    case 8:
      return true;
    case 9:
      return Number.MAX_SAFE_INTEGER + rng.int(1, 1000);
    case 10:
      return [];
    case 11:
      return {};
    default:
      return deepArray(rng.int(10, 100));
  }
}
