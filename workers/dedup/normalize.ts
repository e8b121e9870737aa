/**
 * Turns a question (HTML + LaTeX stem, options inline or as JSON) into one
 * canonical string, so that formatting variants of the same question become
 * byte-identical and the exact stage can catch them by hash. Digits and
 * operators survive untouched: `x^2+1` and `x^2-1` must stay different.
 */

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

/** Unicode math and CJK punctuation that NFKC leaves alone. */
const CHAR_MAP: Record<string, string> = {
  '≤': '\\le ', '⩽': '\\le ', '≥': '\\ge ', '⩾': '\\ge ', '≠': '\\ne ', '∈': '\\in ', '∉': '\\notin ',
  '∩': '\\cap ', '∪': '\\cup ', '⊆': '\\subseteq ', '⊊': '\\subsetneq ', '⊂': '\\subset ',
  '⊇': '\\supseteq ', '⊃': '\\supset ', '×': '\\times ', '÷': '\\div ', '±': '\\pm ', '∞': '\\infty ',
  '√': '\\sqrt ', 'π': '\\pi ', 'α': '\\alpha ', 'β': '\\beta ', 'γ': '\\gamma ', 'θ': '\\theta ',
  'λ': '\\lambda ', 'ω': '\\omega ', 'φ': '\\varphi ', 'ϕ': '\\varphi ', 'ρ': '\\rho ', 'σ': '\\sigma ',
  'Δ': '\\delta ', '∠': '\\angle ', '⊥': '\\perp ', '∥': '\\parallel ', '°': '^\\circ ', '∅': '\\varnothing ',
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
  String.raw`([\^_])\{\s*([a-zA-Z0-9])\s*\}`,
].join('|'), 'g');

function latexRewrite(m: string, delim?: string, inner?: string, cmd?: string, script?: string, single?: string): string {
  if (delim !== undefined) return delim === '.' ? '' : delim;
  if (inner !== undefined) return inner;
  if (cmd !== undefined) return COMMANDS[cmd] ?? m;
  if (script !== undefined) return script + single;
  if (m === '\\\\') return ' \\cr ';
  if (m.charCodeAt(1) === 117 /* \underline{} */) return ' __ ';
  return ' ';
}

// "1." "12、" "第3题" at the very start, even glued to a number ("6.1934年"): a stem
// hardly ever opens with a decimal. "(2019·全国卷Ⅰ)" style source tags likewise.
const QUESTION_NO = /^\s*(?:第\s*\d+\s*题|[1-9]\d{0,2}\s*[、.,:)])\s*/;
const SOURCE_TAG = /^\s*[([]\s*\d{4}\s*(?:年|·|\.|\s)[^()[\]]{0,24}[)\]]\s*/;
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
  s = s.replace(SCORE_NOTE, ' ');
  s = s.replace(BLANK, ' _ ').replace(/-{2,}/g, '-');
  // Sub-question labels: (Ⅰ) becomes (I) under NFKC; editions write (1) as often.
  return s.replace(SUB_LABEL, (_m, r: string) => `(${ROMAN[r.toLowerCase()] ?? r})`);
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
const OPTION_MARK = /(?<=^|[\s。.;,:)_])(?:\(([A-H])\)|([A-H])\s*[.,:、])/g;

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
const OPTION_LABEL = /^\s*(?:\(([A-Ha-h])\)|([A-Ha-h])\s*[.,:、])\s*/;

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
export function normalize(content: string, optionsJson: string | null): Normalized {
  let text = stripHtml(content).normalize('NFKC');
  text = canonicalChars(text.replace(QUESTION_NO, '').replace(SOURCE_TAG, '').replace(QUESTION_NO, ''));
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
  const json = optionTexts(optionsJson).map((o) => canonicalChars(stripHtml(o).normalize('NFKC').replace(OPTION_LABEL, '')));
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
