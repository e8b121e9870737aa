/**
 * Key words: single words that make another question when they change. `下列说法正确的是` and
 * `下列说法错误的是`, with the same options, have different answers; so do `每张课桌135元` and
 * `每张课桌135角`. Two questions are duplicates only if their key words agree (agree() below),
 * checked in verification next to the numbers and formulas of the print's agreement key.
 *
 * Agreeing means: no key word of one question stands where the other has a different one. As
 * multisets of hits, it fails when each side has a hit the other lacks (a word replaced by
 * another: 正确→错误, 元→角, 增大→减小, 是→不是), or when an English word's count differs (NOT,
 * EXCEPT are inserted, not replaced). A Chinese key word that is only missing on one side is a
 * typo that broke it (增大→增着), not another question, so the pair may still pass. That is why
 * the positive forms (是, 能, 一定, 可能) are listed: the negation must replace something.
 *
 * The lists below are data: to add a word, add it to the family it belongs to (or a new family),
 * add a case for it in test/engine/key-words.test.ts (every entry must have one), and bump
 * ALGORITHM_VERSION in prints.ts (stored prints and re-run decisions were made with the old list).
 * Words are matched on the normalized text (simplified Chinese, NFKC, lowercase), longest first
 * at each position, so `不正确` is one hit and not `正确` inside it, `分钟` is not `分`, `千米`
 * is not `米`. A word that is both a key word and a part of a longer ordinary word needs no care
 * as long as both editions of a question contain the same text: only a difference counts.
 *
 * What a list deliberately leaves out: units not preceded by a number (`米饭`, `一元二次方程`, `角A`, `分别` are not units), and units
 * that are mostly something else after a number (`时` in `当x=2时`; `t`, `l` as variables).
 */

export interface KeyWordFamily {
  /** What the family is about (docs and test names). */
  name: string;
  /**
   * Groups of alternatives: words that stand in each other's place (正确/错误/不正确, 元/角/分).
   * Chinese or English; English words are whole words, matched case-insensitively.
   */
  groups: readonly (readonly string[])[];
  /** Units: a word counts only right after a number (`135元`, `5 cm`, `3\frac12米`). */
  afterNumber?: boolean;
}

export const KEY_WORD_FAMILIES: readonly KeyWordFamily[] = [
  {
    name: 'polarity',
    groups: [
      ['正确', '错误', '不正确', '对的', '错的', '不对'],
      ['是', '不是'], ['能', '不能'], ['一定', '不一定'], ['可能', '不可能'], ['必然', '不必然'],
      ['符合', '不符合'], ['属于', '不属于'], ['有关', '无关'],
      ['true', 'false'], ['correct', 'incorrect'], ['right', 'wrong'],
    ],
  },
  {
    // Inserted rather than replaced: their count must agree on both sides.
    name: 'negation',
    groups: [['not'], ['except'], ['cannot'], ['never']],
  },
  {
    name: 'comparative',
    groups: [
      ['最大', '最小'], ['增大', '减小', '不变'], ['升高', '降低'], ['增加', '减少'], ['大于', '小于', '不大于', '不小于', '等于'],
      ['最多', '最少'], ['最高', '最低'], ['最长', '最短'], ['变大', '变小'], ['高于', '低于'], ['多于', '少于'],
      ['增强', '减弱'], ['上升', '下降'], ['加快', '减慢'], ['变长', '变短'],
      ['largest', 'smallest'], ['most', 'least', 'greatest', 'fewest'], ['maximum', 'minimum'], ['increase', 'decrease'], ['more', 'less'],
    ],
  },
  {
    name: 'unit',
    afterNumber: true,
    groups: [
      ['毫米', '厘米', '分米', '米', '千米', '公里', 'mm', 'cm', 'dm', 'm', 'km'],
      ['毫克', '克', '千克', '公斤', '斤', '吨', 'mg', 'g', 'kg'],
      ['元', '角', '分'],
      ['毫秒', '秒', '分钟', '小时', '天', '周', '月', '年', 'ms', 's', 'min', 'h'],
      ['平方毫米', '平方厘米', '平方分米', '平方米', '平方千米', '公顷', '亩'],
      ['立方毫米', '立方厘米', '立方分米', '立方米', '毫升', '升', 'ml'],
    ],
  },
];

const isLetter = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
const isDigit = (c: number) => c >= 48 && c <= 57;

interface Entry {
  word: string;
  /** 1 + its index in the flattened list. */
  id: number;
  /** Its group of alternatives (the first word's id stands for the group). */
  group: number;
  afterNumber: boolean;
  /** A group of one word (NOT, EXCEPT): inserted, not replaced, so its count must agree. */
  strict: boolean;
}

/**
 * The key-word matcher built from some families (the default: KEY_WORD_FAMILIES). Built once
 * per thread (prints.ts holds one); a scan reads char codes and a 64K-entry first-char table,
 * so a text without candidates costs one typed-array load per character.
 */
export class KeyWords {
  /** First char code → 1 when some CJK word starts with it. */
  private readonly first = new Uint8Array(65536);
  /** First char → its CJK entries, longest first. */
  private readonly cjk = new Map<number, Entry[]>();
  /** Whole English words by a hash of their letters (latinHash), checked against the text on a hit. */
  private readonly latin = new Map<number, Entry>();
  /** Longest English word: a longer run of letters is no key word, without hashing it. */
  private latinMax = 0;
  readonly entries: Entry[] = [];

  constructor(families: readonly KeyWordFamily[] = KEY_WORD_FAMILIES) {
    for (const family of families) {
      for (const words of family.groups) this.addGroup(words, family.afterNumber === true);
    }
  }

  private addGroup(words: readonly string[], afterNumber: boolean): void {
    const group = this.entries.length + 1;
    for (const word of words) {
      const latin = isLetter(word.charCodeAt(0));
      const entry = { word: word.toLowerCase(), id: this.entries.length + 1, group, afterNumber, strict: words.length === 1 };
      this.entries.push(entry);
      if (latin) {
        this.latin.set(latinHash(entry.word, 0, entry.word.length), entry);
        this.latinMax = Math.max(this.latinMax, entry.word.length);
        continue;
      }
      const c = word.charCodeAt(0);
      this.first[c] = 1;
      const list = this.cjk.get(c) ?? [];
      list.push(entry);
      list.sort((x, y) => y.word.length - x.word.length);
      this.cjk.set(c, list);
    }
  }

  /** Calls hit(entry id, word) for each key word of the normalized text, in order. */
  scan(text: string, hit: (id: number, word: string) => void): void {
    const len = text.length;
    let i = 0;
    while (i < len) {
      const c = text.charCodeAt(i);
      if (isLetter(c)) {
        let j = i + 1;
        while (j < len && isLetter(text.charCodeAt(j))) j++;
        // A LaTeX command (`\times`, `\le`) is not an English word. The text is lowercase (normalize.ts).
        if (j - i <= this.latinMax && (i === 0 || text.charCodeAt(i - 1) !== 92)) {
          const entry = this.latin.get(latinHash(text, i, j));
          if (entry !== undefined && entry.word.length === j - i && text.startsWith(entry.word, i) && (!entry.afterNumber || afterNumber(text, i))) {
            hit(entry.id, entry.word);
          }
        }
        i = j;
        continue;
      }
      if (this.first[c] === 1) {
        const entry = this.longestAt(text, i, c);
        if (entry !== undefined) {
          hit(entry.id, entry.word);
          i += entry.word.length;
          continue;
        }
      }
      i++;
    }
  }

  private longestAt(text: string, i: number, c: number): Entry | undefined {
    for (const e of this.cjk.get(c)!) if (text.startsWith(e.word, i) && (!e.afterNumber || afterNumber(text, i))) return e;
    return undefined;
  }

  /** The ids of the text's key words, sorted: what agree() compares. */
  ids(text: string): Int32Array {
    const out: number[] = [];
    this.scan(text, (id) => out.push(id));
    return Int32Array.from(out).sort();
  }

  /**
   * Whether two questions' key words (ids(), sorted) agree: no group with a word on one side
   * that the other lacks and another word of it the other way round, and every word of a
   * one-word group as often on both sides (see the module comment).
   */
  agree(a: Int32Array, b: Int32Array): boolean {
    let i = 0;
    let j = 0;
    // Groups of the hits only one side has: a few at most, so plain arrays.
    const onlyA: number[] = [];
    const onlyB: number[] = [];
    while (i < a.length || j < b.length) {
      const x = i < a.length ? a[i]! : Infinity;
      const y = j < b.length ? b[j]! : Infinity;
      if (x === y) {
        i++;
        j++;
        continue;
      }
      const entry = this.entries[Math.min(x, y) - 1]!;
      if (entry.strict) return false;
      if (x < y) {
        onlyA.push(entry.group);
        i++;
      } else {
        onlyB.push(entry.group);
        j++;
      }
    }
    for (const group of onlyA) if (onlyB.includes(group)) return false;
    return true;
  }

  /** The key words of a normalized text, in order (tests, docs). */
  words(text: string): string[] {
    const out: string[] = [];
    this.scan(text, (_id, word) => out.push(word));
    return out;
  }
}

/** FNV-1a of text[from, to): no substring built for a word that is no key word. */
function latinHash(text: string, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let k = from; k < to; k++) h = Math.imul(h ^ text.charCodeAt(k), 0x01000193);
  return h >>> 0;
}

/**
 * True when a number ends right before position i (spaces between allowed): `135元`, `5 cm`,
 * `\frac{1}{2}米`. A Chinese numeral does not count: `一元二次方程`, `三角形`.
 */
function afterNumber(text: string, i: number): boolean {
  let k = i - 1;
  while (k >= 0 && text.charCodeAt(k) === 32) k--;
  if (k < 0) return false;
  const c = text.charCodeAt(k);
  return isDigit(c) || c === 125 /* } */;
}
