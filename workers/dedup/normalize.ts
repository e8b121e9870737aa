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

/** LaTeX spellings with one meaning, mapped to one spelling. Order matters. */
const LATEX_RULES: [RegExp, string][] = [
  [/\\[dt]frac\b/g, '\\frac'],
  [/\\(?:left|right|big|Big|bigg|Bigg)[lr]?\s*(\\[{}|]|[()[\]|.])/g, '$1'],
  [/\\(?:left|right)\s*\./g, ''],
  [/\\(?:leqslant|leq)\b/g, '\\le'],
  [/\\(?:geqslant|geq)\b/g, '\\ge'],
  [/\\neq\b/g, '\\ne'],
  [/\\(?:lbrace)\b/g, '\\{'],
  [/\\(?:rbrace)\b/g, '\\}'],
  [/\\(?:emptyset)\b/g, '\\varnothing'],
  [/\\(?:phi)\b/g, '\\varphi'],
  [/\\(?:epsilon)\b/g, '\\varepsilon'],
  [/\\(?:cdots|ldots|dots)\b/g, '...'],
  [/\\(?:displaystyle|textstyle|limits)\b/g, ''],
  [/\\(?:text|mathrm|mathbf|mathit|textbf|rm|operatorname|boldsymbol|mathbb)\s*\{([^{}]*)\}/g, '$1'],
  [/\\(?:qquad|quad|[,;:! ])/g, ' '],
  [/\\(?:underline|underbrace)\s*\{\s*\}/g, ' __ '],
  [/([\^_])\{\s*([a-zA-Z0-9])\s*\}/g, '$1$2'],
];

// "1." "12、" "第3题" at the very start; "(2019·全国卷Ⅰ)" style source tags.
const QUESTION_NO = /^\s*(?:第\s*\d+\s*题|\d{1,3}\s*[.,:)、](?!\d))\s*/;
const SOURCE_TAG = /^\s*[([]\s*\d{4}\s*(?:年|·|\.|\s)[^()[\]]{0,24}[)\]]\s*/;
const SCORE_NOTE = /[([]\s*(?:本(?:小|大)?题)?\s*(?:满分|共)?\s*\d+(?:\.\d+)?\s*分\s*[)\]]/g;
// Answer blanks come as ___, (\quad), ( ), \underline{\quad}: one token for all.
const BLANK = /_{2,}|\(\s*\)|\[\s*\]/g;

const SUB_LABEL = /\(\s*(iv|i{1,3})\s*\)/g;
const ROMAN: Record<string, string> = { i: '1', ii: '2', iii: '3', iv: '4' };

function canonicalPart(s: string): string {
  s = s.replace(CHAR_RE, (c) => CHAR_MAP[c] ?? c);
  s = s.replace(/\$+|\\\(|\\\)|\\\[|\\\]/g, ' ');
  for (const [re, to] of LATEX_RULES) s = s.replace(re, to);
  s = s.replace(SCORE_NOTE, ' ');
  s = s.replace(BLANK, ' _ ').replace(/-{2,}/g, '-');
  s = s.toLowerCase();
  // Sub-question labels: (Ⅰ) becomes (i) under NFKC; editions write (1) as often.
  s = s.replace(SUB_LABEL, (_m, r: string) => `(${ROMAN[r] ?? r})`);
  return collapseSpaces(s);
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
const OPTION_MARK = /(?:^|\s)(?:\(([A-H])\)|([A-H])\s*[.,:、](?!\d))/g;

/** Finds inline "A. … B. … C. …" options; returns [stem, options] or null. */
export function splitInlineOptions(text: string): [string, string[]] | null {
  const marks: Marker[] = [];
  OPTION_MARK.lastIndex = 0;
  for (let m = OPTION_MARK.exec(text); m !== null; m = OPTION_MARK.exec(text)) {
    const letter = (m[1] ?? m[2] ?? 'A').charCodeAt(0);
    marks.push({ letter, start: m.index + (m[0].length - m[0].trimStart().length), end: m.index + m[0].length });
  }
  let best: Marker[] = [];
  for (let i = 0; i < marks.length; i++) {
    if (marks[i]!.letter !== 65) continue;
    const chain = [marks[i]!];
    for (let j = i + 1; j < marks.length; j++) {
      if (marks[j]!.letter === chain[chain.length - 1]!.letter + 1) chain.push(marks[j]!);
    }
    if (chain.length >= 2 && chain.length >= best.length) best = chain;
  }
  if (best.length < 2) return null;
  const options: string[] = [];
  for (let k = 0; k < best.length; k++) {
    options.push(text.slice(best[k]!.end, k + 1 < best.length ? best[k + 1]!.start : text.length));
  }
  return [text.slice(0, best[0]!.start), options];
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
const OPTION_LABEL = /^\s*(?:\(([A-Ha-h])\)|([A-Ha-h])\s*[.,:、](?!\d))\s*/;

/**
 * The canonical text of a question: stem, then its options sorted by text,
 * one per line. Options are sorted so that shuffled choices still match.
 */
export function normalizeQuestion(content: string, optionsJson: string | null): string {
  let text = stripHtml(content).normalize('NFKC');
  text = text.replace(QUESTION_NO, '').replace(SOURCE_TAG, '').replace(QUESTION_NO, '');
  const opts: string[] = [];
  const split = splitInlineOptions(text);
  if (split !== null) {
    text = split[0];
    for (const o of split[1]) opts.push(o);
  }
  for (const o of optionTexts(optionsJson)) opts.push(stripHtml(o).normalize('NFKC').replace(OPTION_LABEL, ''));
  const stem = canonicalPart(text);
  if (opts.length === 0) return stem;
  const parts = opts.map(canonicalPart).filter((o) => o.length > 0);
  parts.sort();
  return parts.length === 0 ? stem : `${stem}\n${parts.join('\n')}`;
}
