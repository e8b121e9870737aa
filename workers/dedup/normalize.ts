/**
 * Turns a question (HTML + LaTeX stem, options inline or as JSON) into one
 * canonical string, so that formatting variants of the same question become
 * byte-identical and the exact stage can catch them by hash. Digits and
 * operators survive untouched: `x^2+1` and `x^2-1` must stay different.
 */

import { Converter } from 'opencc-js/t2cn';

/**
 * Traditional → simplified Chinese by OpenCC (`opencc-js`, Taiwan standard with its variants),
 * so `關於電場強度，下列說法正確的是` and `关于电场强度，下列说法正确的是` are one text.
 *
 * The converter costs about twice a whole print per text, and nearly every text of a bank is
 * simplified already, so a text is converted only when it looks traditional: at least one CJK
 * character in TRADITIONAL_SHARE converts to another one. Which characters convert is learnt per
 * distinct character, by asking the converter once and remembering the answer (a 64K table per
 * thread: 0 unknown, 1 stays, 2 converts). A share, not any one character: a simplified text has
 * a few that convert alone but not in their words (么 in 什么, 著 in 显著; 3 % of the GAOKAO texts
 * have one), while a traditional text has them in most of its words.
 */
class Simplifier {
  private convert: ((s: string) => string) | null = null;
  readonly differs = new Uint8Array(65536);

  /** Built on first need (~40 ms): a thread that never meets a traditional text never pays it. */
  converter(): (s: string) => string {
    return (this.convert ??= Converter({ from: 'tw', to: 'cn' }));
  }

  /** 2 when the CJK character converts alone, else 1 (learnt on first sight). */
  differ(s: string, i: number, c: number): number {
    let k = this.differs[c]!;
    if (k === 0) {
      const ch = s[i]!;
      k = this.differs[c] = this.converter()(ch) === ch ? 1 : 2;
    }
    return k;
  }
}

/** One character in this many CJK characters converting alone: the text is taken for traditional. */
const TRADITIONAL_SHARE = 12;

/** What scanText found: characters NFKC would flatten the wrong way, a traditional text. */
const SCRIPTS = 1;
const TRADITIONAL = 2;

/** One pass over the char codes for what the rarer rewrites need (most texts need none). */
function scanText(s: string, simplifier: Simplifier): number {
  let flags = 0;
  let cjk = 0;
  let converting = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xb2) continue;
    if (c >= 0x3400) {
      if (c >= 0xd800 && c <= 0xdfff) continue;
      cjk++;
      if (simplifier.differ(s, i, c) === 2) converting++;
    } else if (c === 0xb2 || c === 0xb3 || c === 0xb9 || (c >= 0xbc && c <= 0xbe) || (c >= 0x2070 && c <= 0x209f) || (c >= 0x2150 && c <= 0x215f)) {
      flags |= SCRIPTS;
    }
  }
  if (converting > 0 && converting * TRADITIONAL_SHARE >= cjk) flags |= TRADITIONAL;
  return flags;
}

const ENTITIES: Record<string, string> = {
  nbsp: ' ', ensp: ' ', emsp: ' ', thinsp: ' ', lt: '<', gt: '>', amp: '&', quot: '"',
  apos: "'", times: '×', divide: '÷', le: '≤', ge: '≥', ne: '≠', minus: '-', middot: '·',
  hellip: '…', ldquo: '"', rdquo: '"', lsquo: "'", rsquo: "'", mdash: '-', ndash: '-',
};

// Only real tag shapes: a bare `a<b` in a formula must not swallow text up to the next `>`.
const TAG = /<\/?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?\/?>/g;
const IMG_SRC = /<img\b[^>]*?\bsrc\s*=\s*["']?([^"'\s>]+)[^>]*>/gi;
const ENTITY = /&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi;

function stripHtml(s: string): string {
  if (s.indexOf('<') < 0 && s.indexOf('&') < 0) return s;
  // A figure is part of the question: two stems that differ only by image are different.
  s = s.replace(IMG_SRC, (_m, src: string) => ` [img:${src.slice(src.lastIndexOf('/') + 1)}] `);
  s = s.replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1>/gi, ' ');
  s = s.replace(TAG, ' ');
  return s.replace(ENTITY, (m, e: string) => {
    if (e.charCodeAt(0) === 35 /* # */) {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : ' ';
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

const SUPERSCRIPT: Record<string, string> = {
  '⁰': '0', '¹': '1', '²': '2', '³': '3', '⁴': '4', '⁵': '5', '⁶': '6', '⁷': '7', '⁸': '8', '⁹': '9', '⁺': '+', '⁻': '-', 'ⁿ': 'n',
};
const SUBSCRIPT: Record<string, string> = {
  '₀': '0', '₁': '1', '₂': '2', '₃': '3', '₄': '4', '₅': '5', '₆': '6', '₇': '7', '₈': '8', '₉': '9', '₊': '+', '₋': '-', 'ₙ': 'n',
};
const SCRIPT_RUN = /[⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻ⁿ]+|[₀₁₂₃₄₅₆₇₈₉₊₋ₙ]+/g;
const VULGAR_FRACTION = /[½⅓⅔¼¾⅕⅖⅗⅘⅙⅚⅛⅜⅝⅞]/g;
const scriptOf = (run: string, map: Record<string, string>, mark: string) => {
  let body = '';
  for (const ch of run) body += map[ch] ?? ch;
  return body.length === 1 ? `${mark}${body}` : `${mark}{${body}}`;
};

/**
 * Unicode math that NFKC would flatten the wrong way: `x²` must become `x^2` (NFKC makes it
 * `x2`), `3½` a mixed number `3(1/2)` (NFKC makes it `31⁄2`). Written as LaTeX writes them, so
 * the LaTeX pass then treats all notations alike.
 */
function unicodeMath(s: string): string {
  s = s.replace(SCRIPT_RUN, (run) => (SUPERSCRIPT[run[0]!] !== undefined ? scriptOf(run, SUPERSCRIPT, '^') : scriptOf(run, SUBSCRIPT, '_')));
  return s.replace(VULGAR_FRACTION, (ch, at: number) => {
    const plain = ch.normalize('NFKC').replace('⁄', '/');
    return at > 0 && isDigitCode(s.charCodeAt(at - 1)) ? `(${plain})` : plain;
  });
}

const isDigitCode = (c: number) => c >= 48 && c <= 57;

/** Unicode math and CJK punctuation that NFKC leaves alone. */
const CHAR_MAP: Record<string, string> = {
  '≤': '\\le ', '⩽': '\\le ', '≥': '\\ge ', '⩾': '\\ge ', '≠': '\\ne ', '∈': '\\in ', '∉': '\\notin ',
  '∩': '\\cap ', '∪': '\\cup ', '⊆': '\\subseteq ', '⊊': '\\subsetneq ', '⊂': '\\subset ',
  '⊇': '\\supseteq ', '⊃': '\\supset ', '×': '\\times ', '÷': '\\div ', '±': '\\pm ', '∞': '\\infty ',
  '√': '\\sqrt ', 'π': '\\pi ', 'α': '\\alpha ', 'β': '\\beta ', 'γ': '\\gamma ', 'θ': '\\theta ',
  'λ': '\\lambda ', 'ω': '\\omega ', 'φ': '\\varphi ', 'ϕ': '\\varphi ', 'ρ': '\\rho ', 'σ': '\\sigma ',
  'Δ': '\\delta ', 'δ': '\\delta ', 'ε': '\\varepsilon ', 'η': '\\eta ', 'μ': '\\mu ', 'ν': '\\nu ', 'ξ': '\\xi ',
  'τ': '\\tau ', 'υ': '\\upsilon ', 'χ': '\\chi ', 'ψ': '\\psi ', 'ζ': '\\zeta ', 'κ': '\\kappa ', 'ι': '\\iota ',
  'Ω': '\\omega ', 'Σ': '\\sigma ', 'Φ': '\\varphi ', 'Γ': '\\gamma ', 'Λ': '\\lambda ', 'Π': '\\pi ', 'Ψ': '\\psi ',
  'Θ': '\\theta ', 'ϵ': '\\varepsilon ', '⁄': '/', '∕': '/', '∠': '\\angle ', '⊥': '\\perp ', '∥': '\\parallel ', '°': '^\\circ ', '∅': '\\varnothing ',
  '→': '\\to ', '⇒': '\\rightarrow ', '∀': '\\forall ', '∃': '\\exists ', '¬': '\\neg ', '−': '-', '∶': ':',
  '。': '.', '、': ',', '“': '"', '”': '"', '‘': "'", '’': "'", '【': '[', '】': ']',
  '〔': '(', '〕': ')', '—': '-', '–': '-', '―': '-', '･': '·', '・': '·', '\u3000': ' ',
};
const CHAR_RE = new RegExp(`[${Object.keys(CHAR_MAP).join('')}]`, 'g');

/** LaTeX commands with one meaning, mapped to one spelling ('' drops the command). */
const COMMANDS: Record<string, string> = {
  dfrac: '\\frac', tfrac: '\\frac', bullet: '\\cdot', leqslant: '\\le', leq: '\\le', geqslant: '\\ge', geq: '\\ge',
  neq: '\\ne', lbrace: '\\{', rbrace: '\\}', emptyset: '\\varnothing', phi: '\\varphi', epsilon: '\\varepsilon',
  cdots: '...', ldots: '...', dots: '...', displaystyle: '', textstyle: '', limits: '', qquad: ' ', quad: ' ',
  degree: '^\\circ', ast: '*', vartheta: '\\theta', varPhi: '\\varphi',
};

/**
 * Every LaTeX rewrite in one pass (a pass per rule cost more than the rest
 * of normalization): `\\` line breaks (before `\ ` could eat half of one),
 * sized delimiters, text wrappers, spacing, synonyms, `^{2}` → `^2`.
 */
const LATEX = new RegExp([
  String.raw`\\\\`,
  String.raw`\\(?:left|right|big|Big|bigg|Bigg)[lr]?\s*(\\[{}|]|[()[\]|.])`,
  String.raw`\\(?:text|mathrm|mathbf|mathit|textbf|rm|operatorname|boldsymbol|mathbb)\s*\{([^{}]*)\}`,
  String.raw`\\(?:underline|underbrace)\s*\{\s*(?:\\quad\s*)*\}`,
  String.raw`\\([a-zA-Z]+)`,
  String.raw`\\[,;:! ]`,
  String.raw`([\^_])\{\s*([a-zA-Z0-9]|\\[a-zA-Z]+)\s*\}`,
].join('|'), 'g');

function latexRewrite(m: string, delim?: string, inner?: string, cmd?: string, script?: string, single?: string): string {
  if (delim !== undefined) return delim === '.' ? '' : delim;
  if (inner !== undefined) return inner;
  // A space after every command: `\\le1` and `\\le 1` are one spelling (spaces collapse later).
  if (cmd !== undefined) {
    const to = COMMANDS[cmd] ?? m;
    return to.charCodeAt(0) === 92 ? `${to} ` : to;
  }
  // `^{\circ}C` → `^\circ C`: the command must not run into the next letters.
  if (script !== undefined) return single!.charCodeAt(0) === 92 ? `${script}${single} ` : script + single;
  if (m === '\\\\') return ' \\cr ';
  if (m.charCodeAt(1) === 117 /* \underline{} */) return ' __ ';
  return ' ';
}

/**
 * What may stand before a stem, in any order and combination, each dropped: a question number
 * ("1." "12、" "3)" "第3题"), even glued to a year ("6.1934年"); a source tag ("(2019·全国卷Ⅰ)",
 * "【2018·北京】"); a score note ("(4分)", "(本小题满分12分)"). A number that starts the
 * question itself stays: "2.75-1(5/6)" is a decimal, not question 2 (a number is a question
 * number only before a "." that no digit follows, or one that a year follows).
 */
const PREFIX = new RegExp('^\\s*(?:' + [
  String.raw`第\s*\d+\s*题\s*[、.,:]?`,
  String.raw`[1-9]\d{0,2}\s*(?:[、,:)]|\.(?!\d)|\.(?=\d{4}年))`,
  String.raw`[([【〔]\s*\d{4}\s*(?:年|·|\.|\s|-)[^()[\]【】〔〕]{0,24}[)\]】〕]`,
  String.raw`[([【〔]\s*(?:本(?:小|大)?题)?\s*(?:满分|共)?\s*\d+(?:\.\d+)?\s*分\s*[)\]】〕]`,
].join('|') + ')\\s*');

function stripPrefixes(s: string): string {
  // A few rounds: number, tag and note come in any order, each at most once or twice.
  for (let round = 0; round < 6; round++) {
    const m = PREFIX.exec(s);
    if (m === null || m[0].length === 0) break;
    s = s.slice(m[0].length);
  }
  return s;
}

const SCORE_NOTE = /[([]\s*(?:本(?:小|大)?题)?\s*(?:满分|共)?\s*\d+(?:\.\d+)?\s*分\s*[)\]]/g;
// Answer blanks come as ___, (\quad), ( ), \underline{\quad}: one token for all.
const BLANK = /_{2,}|\(\s*\)|\[\s*\]/g;

const SUB_LABEL = /\(\s*(IV|I{1,3}|iv|i{1,3})\s*\)/g;
const ROMAN: Record<string, string> = { i: '1', ii: '2', iii: '3', iv: '4' };

/**
 * Character- and LaTeX-level canonical form, case kept (option labels are
 * found after this). Runs once over the whole text: a dozen regex passes
 * per option would cost more than everything else together.
 */
function canonicalChars(s: string): string {
  s = s.replace(CHAR_RE, (c) => CHAR_MAP[c] ?? c);
  if (s.indexOf('\\') >= 0 || s.indexOf('$') >= 0) {
    s = s.replace(/\$+|\\\(|\\\)|\\\[|\\\]/g, ' ');
    s = s.replace(LATEX, latexRewrite);
  }
  s = mathForms(s);
  s = s.replace(SCORE_NOTE, ' ');
  s = s.replace(BLANK, ' _ ').replace(/-{2,}/g, '-');
  // Sub-question labels: (Ⅰ) becomes (I) under NFKC; editions write (1) as often.
  return s.replace(SUB_LABEL, (_m, r: string) => `(${ROMAN[r.toLowerCase()] ?? r})`);
}

/**
 * One spelling for fractions, roots and products, whatever notation they came in:
 * `\frac{1}{2}`, `\frac12`, `\dfrac12` and `1/2` → `1/2`; `\frac{x+1}{2}` → `(x+1)/2`; a
 * fraction right after a digit keeps its parentheses (`3\frac14` → `3(1/4)`, a mixed number,
 * not 31/4); `(1/2)` standing alone → `1/2`; `\sqrt{2}` and `√2` → `\sqrt 2`, `\sqrt{x+1}` →
 * `\sqrt(x+1)`; `3*4` → `3\times 4`.
 */
function mathForms(s: string): string {
  if (s.indexOf('\\frac') >= 0 || s.indexOf('\\sqrt') >= 0) s = structures(s);
  if (s.indexOf('*') >= 0) s = s.replace(/(\d)\s*\*\s*(?=\d)/g, '$1\\times ');
  if (s.indexOf('/') >= 0) s = s.replace(/(^|[^0-9a-zA-Z)\]}_^])\(\s*(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)\s*\)/g, '$1$2/$3');
  return s;
}

/** A fraction part or root argument that needs no parentheses: a number, a letter run, a command with one. */
const ATOM = /^(?:[0-9.]+|[a-zA-Z]+|\\[a-zA-Z]+\s*[0-9a-zA-Z.]*)$/;
const wrap = (arg: string) => (ATOM.test(arg) ? arg : `(${arg})`);

/** Rewrites every \frac and \sqrt, inner ones first (their arguments are read with nesting). */
function structures(s: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const next = s.indexOf('\\', i);
    if (next < 0) {
      out += s.slice(i);
      break;
    }
    out += s.slice(i, next);
    i = next;
    const frac = s.startsWith('\\frac', i) && !isLetterCode(s.charCodeAt(i + 5));
    const sqrt = !frac && s.startsWith('\\sqrt', i) && !isLetterCode(s.charCodeAt(i + 5));
    if (!frac && !sqrt) {
      out += '\\';
      i++;
      continue;
    }
    let at = i + 5;
    // \sqrt[3]{x}: an index makes another root; left as it is.
    if (sqrt && s[skipSpaces(s, at)] === '[') {
      out += '\\sqrt';
      i = at;
      continue;
    }
    const a = argument(s, at);
    if (a === null) {
      out += s.slice(i, at);
      i = at;
      continue;
    }
    if (sqrt) {
      const inner = structures(a.text).trim();
      out += ATOM.test(inner) ? `\\sqrt ${inner} ` : `\\sqrt(${inner})`;
      i = a.end;
      continue;
    }
    const b = argument(s, a.end);
    if (b === null) {
      out += s.slice(i, a.end);
      i = a.end;
      continue;
    }
    const fraction = `${wrap(structures(a.text).trim())}/${wrap(structures(b.text).trim())}`;
    const k = lastNonSpace(out);
    out += k >= 0 && isDigitCode(out.charCodeAt(k)) ? `(${fraction})` : fraction;
    i = b.end;
  }
  return out;
}

const isLetterCode = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
function skipSpaces(s: string, at: number): number {
  while (at < s.length && s.charCodeAt(at) === 32) at++;
  return at;
}
function lastNonSpace(s: string): number {
  let k = s.length - 1;
  while (k >= 0 && s.charCodeAt(k) === 32) k--;
  return k;
}

/** A LaTeX argument at `at`: `{…}` with nesting, a command, or one character. */
function argument(s: string, at: number): { text: string; end: number } | null {
  at = skipSpaces(s, at);
  if (at >= s.length) return null;
  if (s[at] === '{') {
    let depth = 0;
    for (let k = at; k < s.length; k++) {
      if (s[k] === '{') depth++;
      else if (s[k] === '}' && --depth === 0) return { text: s.slice(at + 1, k), end: k + 1 };
    }
    return null;
  }
  if (s[at] === '\\') {
    let k = at + 1;
    while (k < s.length && isLetterCode(s.charCodeAt(k))) k++;
    return k > at + 1 ? { text: s.slice(at, k), end: k } : null;
  }
  return '}()'.includes(s[at]!) ? null : { text: s[at]!, end: at + 1 };
}

function finishPart(s: string): string {
  return collapseSpaces(s.toLowerCase());
}

function isWordCode(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90);
}

/** Keeps a single space only where it separates two word characters. */
function collapseSpaces(s: string): string {
  let out = '';
  let pendingSpace = false;
  let prev = 0;
  let runStart = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11 || c === 0xa0) {
      if (i > runStart) out += s.slice(runStart, i);
      runStart = i + 1;
      pendingSpace = true;
      continue;
    }
    if (pendingSpace) {
      if (isWordCode(prev) && isWordCode(c) && out.length > 0) out += ' ';
      pendingSpace = false;
    }
    prev = c;
  }
  if (runStart < s.length) out += s.slice(runStart);
  return out;
}

interface Marker { letter: number; start: number; end: number }
// A label opens a line, follows whitespace, or follows the previous sentence's end ("…分布。A．①②").
const OPTION_MARK = /(?<=^|[\s。.;,:)_])(?:\(([A-H])\)|([A-H])\s*[.,:、)])/g;

/**
 * Finds every inline "A. … B. … C. …" block (a passage can carry one per
 * sub-question). Returns the text between blocks and each block's options,
 * or null when there is none.
 */
export function splitInlineOptions(text: string): { stems: string[]; blocks: string[][] } | null {
  const marks: Marker[] = [];
  OPTION_MARK.lastIndex = 0;
  for (let m = OPTION_MARK.exec(text); m !== null; m = OPTION_MARK.exec(text)) {
    const letter = (m[1] ?? m[2] ?? 'A').charCodeAt(0);
    marks.push({ letter, start: m.index, end: m.index + m[0].length });
  }
  const chains: Marker[][] = [];
  let chain: Marker[] = [];
  const close = () => {
    if (chain.length >= 2) chains.push(chain);
    chain = [];
  };
  for (const m of marks) {
    if (chain.length > 0 && m.letter === chain[chain.length - 1]!.letter + 1) chain.push(m);
    else if (m.letter === 65) {
      close();
      chain = [m];
    }
  }
  close();
  if (chains.length === 0) return null;
  const stems: string[] = [];
  const blocks: string[][] = [];
  let at = 0;
  for (let c = 0; c < chains.length; c++) {
    const ch = chains[c]!;
    // The last option of a block ends at the next block's stem... which we cannot see; at its line end.
    const nextStart = c + 1 < chains.length ? chains[c + 1]![0]!.start : text.length;
    stems.push(text.slice(at, ch[0]!.start));
    const options: string[] = [];
    for (let k = 0; k < ch.length; k++) {
      const end = k + 1 < ch.length ? ch[k + 1]!.start : lastOptionEnd(text, ch[k]!.end, nextStart, c + 1 < chains.length);
      options.push(text.slice(ch[k]!.end, end));
    }
    blocks.push(options);
    at = lastOptionEnd(text, ch[ch.length - 1]!.end, nextStart, c + 1 < chains.length);
  }
  if (at < text.length) stems.push(text.slice(at));
  return { stems, blocks };
}

/**
 * Where the last option of a block ends when another block follows: at the
 * next sub-question's number ("(2)", "11."), which survives re-wrapping;
 * failing that at the end of the line.
 */
function lastOptionEnd(text: string, from: number, limit: number, more: boolean): number {
  const m = /(?:^|\s|[。.;])(?:\(\d{1,2}\)|\d{1,2}\s*[.、](?!\d))/.exec(text.slice(from, limit));
  if (m !== null) return from + m.index + (m[0].length - m[0].replace(/^[\s。.;]/, '').length);
  // The very last option may wrap over lines; it runs to the end.
  if (!more) return limit;
  const nl = text.indexOf('\n', from);
  return nl >= 0 && nl < limit ? nl : limit;
}

function optionTexts(optionsJson: string | null): string[] {
  if (optionsJson === null || optionsJson === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(optionsJson);
  } catch {
    return [optionsJson];
  }
  if (Array.isArray(parsed)) return parsed.map((o) => (typeof o === 'string' ? o : JSON.stringify(o)));
  if (parsed !== null && typeof parsed === 'object') {
    return Object.values(parsed as Record<string, unknown>).map((o) => (typeof o === 'string' ? o : JSON.stringify(o)));
  }
  return [String(parsed)];
}

// An option list stored with its labels ("A. foo") must equal one stored without.
const OPTION_LABEL = /^\s*(?:\(([A-Ha-h])\)|([A-Ha-h])\s*[.,:、)])\s*/;

export interface Normalized {
  /** The whole canonical text: stem pieces and option blocks, one per line. */
  text: string;
  /** Only the option blocks, each sorted: equal for two editions of one question. */
  options: string;
}

const sortedBlock = (opts: string[]) => opts.map(finishPart).filter((o) => o.length > 0).sort();

/**
 * The canonical form of a question. Options are sorted inside each block
 * so that shuffled choices still match; JSON options form a block of their own.
 */
/** Unicode math as LaTeX, NFKC, simplified Chinese: the text before any pattern is applied. */
function rawForm(s: string, simplifier: Simplifier): string {
  const flags = scanText(s, simplifier);
  if ((flags & SCRIPTS) !== 0) s = unicodeMath(s);
  s = s.normalize('NFKC');
  return (flags & TRADITIONAL) !== 0 ? simplifier.converter()(s) : s;
}

/** The per-thread state normalization learns as it goes (which characters convert). */
const threadSimplifier = new Simplifier();

export function normalize(content: string, optionsJson: string | null): Normalized {
  const simplifier = threadSimplifier;
  let text = rawForm(stripHtml(content), simplifier);
  text = canonicalChars(stripPrefixes(text));
  const lines: string[] = [];
  const blocks: string[][] = [];
  const split = splitInlineOptions(text);
  if (split === null) {
    lines.push(finishPart(text));
  } else {
    for (let k = 0; k < split.stems.length; k++) {
      lines.push(finishPart(split.stems[k]!));
      const block = split.blocks[k];
      if (block !== undefined) {
        const sorted = sortedBlock(block);
        blocks.push(sorted);
        lines.push(...sorted);
      }
    }
  }
  const json = optionTexts(optionsJson).map((o) => canonicalChars(rawForm(stripHtml(o), simplifier).replace(OPTION_LABEL, '')));
  if (json.length > 0) {
    const sorted = sortedBlock(json);
    blocks.push(sorted);
    lines.push(...sorted);
  }
  return {
    text: lines.filter((l) => l.length > 0).join('\n'),
    options: blocks.map((b) => b.join('\n')).join('\n\n'),
  };
}

export function normalizeQuestion(content: string, optionsJson: string | null): string {
  return normalize(content, optionsJson).text;
}
