/**
 * Generated look-alikes of a real question: formatting variants that are
 * the same question, and hard negatives that look the same but are not.
 * Written without the engine's normalizer, so a variant is not "the same"
 * just because the engine says so.
 */

export type VariantKind =
  | 'natural' | 'natural-near'
  | 'html' | 'fullwidth' | 'renumber' | 'latex' | 'shuffle' | 'edit'
  | 'json-options' | 'spacing' | 'combo'
  | 'number' | 'option' | 'template';

/** Kinds used while tuning min_similarity. */
export const TUNING_KINDS: readonly VariantKind[] = ['natural', 'natural-near', 'html', 'fullwidth', 'renumber', 'latex', 'shuffle', 'edit', 'number', 'option'];
/** Kinds never looked at while tuning: the test checks the defaults still hold on them. */
export const HELD_OUT_KINDS: readonly VariantKind[] = ['json-options', 'spacing', 'combo', 'template'];

export interface Variant {
  kind: VariantKind;
  content: string;
  options: string | null;
  /** True: the same question as the seed. False: a different question. */
  duplicate: boolean;
}

type Rand = () => number;
const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

interface Parsed { stem: string; labels: string[]; options: string[] }

/** Splits "stem A. x B. y C. z D. w" (inline or one per line). */
export function parseOptions(content: string): Parsed | null {
  const re = /(^|\s)([A-H])\s*[.．、]/g;
  const marks: { letter: string; start: number; end: number }[] = [];
  for (let m = re.exec(content); m !== null; m = re.exec(content)) {
    marks.push({ letter: m[2]!, start: m.index + m[1]!.length, end: m.index + m[0].length });
  }
  const chain: typeof marks = [];
  for (const m of marks) {
    const want = String.fromCharCode(65 + chain.length);
    if (m.letter === want) chain.push(m);
    // A second block (passage with several sub-questions): too ambiguous to rewrite faithfully.
    else if (m.letter === 'A' && chain.length >= 3) return null;
    else if (m.letter === 'A') chain.splice(0, chain.length, m);
  }
  if (chain.length < 3) return null;
  // Sub-questions after the options ("（2）…"): the last option's end is a guess; leave such items alone.
  if (/[（(]\s*\d{1,2}\s*[)）]/.test(content.slice(chain[0]!.start))) return null;
  const options = chain.map((m, k) => content.slice(m.end, k + 1 < chain.length ? chain[k + 1]!.start : content.length).trim());
  if (options.some((o) => o === '')) return null;
  return { stem: content.slice(0, chain[0]!.start), labels: chain.map((m) => m.letter), options };
}

const joinOptions = (p: Parsed, options: string[], sep = '\n') =>
  `${p.stem.trimEnd()}\n${options.map((o, k) => `${p.labels[k]}. ${o}`).join(sep)}\n`;

function shuffled<T>(rand: Rand, xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const k = Math.floor(rand() * (i + 1));
    [out[i], out[k]] = [out[k]!, out[i]!];
  }
  // A "shuffle" that changes nothing would be a copy, not a variant.
  if (out.every((x, i) => x === xs[i]) && out.length > 1) out.push(out.shift()!);
  return out;
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function toHtml(s: string, rand: Rand): string {
  const body = escapeHtml(s).split('\n').map((line) => line.replace(/ {2}/g, ' &nbsp;')).join(rand() < 0.5 ? '<br/>' : '</p><p>');
  return `<div class="question"><p>${body}</p></div>`;
}

export function toFullWidth(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    out += c > 0x20 && c < 0x7f && ch !== '\\' && ch !== '$' ? String.fromCharCode(c + 0xfee0) : ch;
  }
  return out;
}

const LEADING_NO = /^\s*\d+\s*[.．、]\s*(?:[(（]\s*\d+\s*分\s*[)）])?\s*/;
export function renumber(s: string, rand: Rand): string {
  const bare = s.replace(LEADING_NO, '');
  const n = 1 + Math.floor(rand() * 24);
  const pts = pick(rand, [4, 5, 6, 10, 12]);
  return pick(rand, [
    `${n}. （${pts}分）${bare}`, `${n}、${bare}`, `${n}．(${pts} 分) ${bare}`, `（${pts}分）${bare}`, `(2019·全国卷) ${bare}`, bare,
  ]);
}

export function latexSynonyms(s: string): string {
  return s
    .replace(/\\frac/g, '\\dfrac')
    .replace(/\\leqslant/g, '\\le').replace(/\\geqslant/g, '\\ge')
    .replace(/\\leq\b/g, '\\leqslant').replace(/\\geq\b/g, '\\geqslant')
    .replace(/([\^_])\{([a-zA-Z0-9])\}/g, '$1$2')
    .replace(/\$([^$]+)\$/g, (_m, body: string) => `$ ${body.replace(/,/g, ', ')} $`);
}

const CJK_FILL = '的是了在和有不这为中上个以到大来说国年着就那也得';
function isCjk(c: number): boolean {
  return c >= 0x4e00 && c <= 0x9fff;
}

/** One Chinese character replaced, away from formulas: a typo or a regional wording change. */
export function smallEdit(s: string, rand: Rand): string | null {
  const at: number[] = [];
  for (let i = 6; i < s.length; i++) if (isCjk(s.charCodeAt(i))) at.push(i);
  if (at.length < 60) return null;
  const i = pick(rand, at);
  let c = pick(rand, [...CJK_FILL]);
  if (c === s[i]) c = '其';
  return s.slice(0, i) + c + s.slice(i + 1);
}

export function respace(s: string, rand: Rand): string {
  const swap: Record<string, string> = { '，': ',', ',': '，', '：': ':', ':': '：', '；': ';', ';': '；', '（': '(', '）': ')', '。': '.' };
  let out = '';
  let inMath = false;
  for (const ch of s) {
    if (ch === '$') inMath = !inMath;
    out += inMath ? ch : (swap[ch] ?? ch);
    if (!inMath && isCjk(ch.charCodeAt(0)) && rand() < 0.08) out += rand() < 0.5 ? ' ' : '  ';
  }
  return out.replace(/\n/g, rand() < 0.5 ? '\n\n' : ' \n');
}

/** Changes one number outside the question number and score note. */
export function changeNumber(s: string, rand: Rand): string | null {
  const head = s.match(LEADING_NO)?.[0].length ?? 0;
  const spots: { at: number; len: number; value: number }[] = [];
  const re = /\d+/g;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    // A score note ("〔3分〕") is not part of the question.
    if (/^\s*分/.test(s.slice(m.index + m[0].length))) continue;
    if (m.index >= head && m[0].length <= 4) spots.push({ at: m.index, len: m[0].length, value: Number(m[0]) });
  }
  if (spots.length === 0) return null;
  const p = pick(rand, spots);
  const next = p.value + 1 + Math.floor(rand() * 3);
  return s.slice(0, p.at) + String(next) + s.slice(p.at + p.len);
}

const TEMPLATES_ZH = ['下列说法正确的是', '下列叙述正确的是', '下列说法中，错误的是', '关于下列说法，正确的是'];
const TEMPLATES_EN = ['Which of the following is true?', 'Choose the best answer.'];

/**
 * The seed's options under a bare template stem. Every seed of a group uses
 * the same stem, so two of them differ only by their options.
 */
export function templateQuestion(content: string, groupKey: string): string | null {
  const parsed = parseOptions(content);
  if (parsed === null) return null;
  const english = !/[\u4e00-\u9fff]/.test(parsed.stem);
  const pool = english ? TEMPLATES_EN : TEMPLATES_ZH;
  let h = 0;
  for (const ch of groupKey) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return `${pool[h % pool.length]}\n${parsed.options.map((o, i) => `${parsed.labels[i]}. ${o}`).join('\n')}`;
}

export function makeVariants(content: string, peers: string[], rand: Rand): Variant[] {
  const out: Variant[] = [];
  const dup = (kind: VariantKind, c: string, options: string | null = null) => {
    if (c !== content || options !== null) out.push({ kind, content: c, options, duplicate: true });
  };
  const neg = (kind: VariantKind, c: string | null) => {
    if (c !== null && c !== content) out.push({ kind, content: c, options: null, duplicate: false });
  };
  const parsed = parseOptions(content);

  dup('html', toHtml(content, rand));
  dup('fullwidth', toFullWidth(content));
  dup('renumber', renumber(content, rand));
  if (content.includes('$')) dup('latex', latexSynonyms(content));
  if (parsed !== null) dup('shuffle', joinOptions(parsed, shuffled(rand, parsed.options), rand() < 0.5 ? '\n' : '  '));
  const edited = smallEdit(content, rand);
  if (edited !== null) dup('edit', edited);

  if (parsed !== null) {
    const order = shuffled(rand, parsed.labels.map((_, k) => k));
    const json = rand() < 0.5
      ? JSON.stringify(order.map((k) => parsed.options[k]!))
      : JSON.stringify(Object.fromEntries(order.map((k) => [parsed.labels[k]!, `${parsed.labels[k]}. ${parsed.options[k]}`])));
    dup('json-options', parsed.stem, json);
  }
  dup('spacing', respace(content, rand));
  let combo = renumber(latexSynonyms(content), rand);
  const comboParsed = parseOptions(combo);
  if (comboParsed !== null) combo = joinOptions(comboParsed, shuffled(rand, comboParsed.options));
  dup('combo', toHtml(toFullWidth(combo), rand));

  neg('number', changeNumber(content, rand));
  if (parsed !== null) {
    const donor = peers.map(parseOptions).find((p) => p !== null && !p.options.some((o) => parsed.options.includes(o)));
    if (donor != null) {
      const k = Math.floor(rand() * parsed.options.length);
      const options = [...parsed.options];
      options[k] = pick(rand, donor.options);
      neg('option', joinOptions(parsed, options));
    }
  }
  return out;
}
