/// <reference lib="dom" />
/** Question text with LaTeX: split into text and formulas, diffed formula by formula, typeset by KaTeX. */
import katex from 'katex';
import { tokenize, type Segment } from './diff.ts';
import { h } from './dom.ts';

export interface Piece {
  text: string;
  /** The TeX between the delimiters, when this piece is a formula. */
  tex?: string;
  display?: boolean;
}

/**
 * `$$…$$`, `\[…\]` (display), `\(…\)` and `$…$` (inline). An escaped `\$` is a dollar sign, and an
 * inline formula never spans a blank line, so a lone `$` ("costs $5") stays text.
 */
const MATH = /\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\]|\\\(([\s\S]+?)\\\)|(?<!\\)\$((?:\\.|[^\\$])+?)\$/g;

export function splitMath(text: string): Piece[] {
  const pieces: Piece[] = [];
  let at = 0;
  for (const match of text.matchAll(MATH)) {
    const inline = match[4];
    if (inline !== undefined && /\n\s*\n/.test(inline)) continue;
    if (match.index > at) pieces.push({ text: text.slice(at, match.index) });
    const display = match[1] !== undefined || match[2] !== undefined;
    pieces.push({ text: match[0], tex: (match[1] ?? match[2] ?? match[3] ?? inline)!, display });
    at = match.index + match[0].length;
  }
  if (at < text.length) pieces.push({ text: text.slice(at) });
  return pieces;
}

/** Diff tokens: a formula is one token (half a formula cannot be marked), the text between as `tokenize` splits it. */
export function mathTokens(text: string): string[] {
  return splitMath(text).flatMap((piece) => (piece.tex === undefined ? tokenize(piece.text) : [piece.text]));
}

/**
 * What of a diff token counts: for a formula, its TeX without the spaces TeX ignores (a space
 * only separates two letters, as in `\alpha b`) and with `$$…$$` and `\[…\]` alike (they typeset
 * the same); any other token as it is.
 */
export function tokenKey(token: string): string {
  const [piece] = splitMath(token);
  if (piece?.tex === undefined || piece.text !== token) return token;
  const tex = piece.tex.trim().replace(/\s+/g, ' ').replace(/ ?([^A-Za-z ]) ?/g, '$1');
  return `${piece.display ? 'D' : 'I'}:${tex}`;
}

function typeset(piece: Piece): HTMLElement {
  const element = h('span', { class: piece.display ? 'math display' : 'math', title: piece.text });
  // strict off: Chinese text inside a formula is common in the bank and only a style warning to KaTeX;
  // throwOnError off: a formula KaTeX cannot parse shows its source in red instead of breaking the page.
  katex.render(piece.tex!, element, { displayMode: piece.display, throwOnError: false, strict: false, output: 'htmlAndMathml' });
  return element;
}

/** Diff segments as DOM: changed runs in `<mark>`, formulas typeset. */
export function renderSegments(segments: Segment[]): Node[] {
  return segments.map((segment) => {
    const nodes = splitMath(segment.text).map((piece) => (piece.tex === undefined ? document.createTextNode(piece.text) : typeset(piece)));
    return segment.changed ? h('mark', {}, ...nodes) : nodesFragment(nodes);
  });
}

function nodesFragment(nodes: Node[]): DocumentFragment {
  const fragment = document.createDocumentFragment();
  fragment.append(...nodes);
  return fragment;
}
