/** What a reviewer reads of a question: its stem as text (the bank may hold HTML) and its options, one per line. */
import type { ReviewQuestion } from './review-types.ts';

/** Only these tags are taken for markup; `a<b` or `$x<y$` in a formula is text, not a tag. */
const TAG = /<\/?(?:p|br|div|span|img|sub|sup|u|b|i|em|strong|font|table|tbody|thead|tr|td|th|ul|ol|li|h[1-6])(?=[\s/>])[^>]*>/gi;
const BREAK = /^<(?:br|\/p|\/div|\/li|\/tr|\/h[1-6])\b/i;
const ENTITIES: Record<string, string> = { nbsp: ' ', lt: '<', gt: '>', amp: '&', quot: '"', apos: "'", ensp: ' ', emsp: ' ' };

/**
 * The stem as plain text: line-ending tags become line breaks, an image becomes `[image]`, other
 * tags go, entities are decoded. Never parsed as HTML by the page, so a stored `<script>` is only text.
 */
export function htmlToText(content: string): string {
  if (!/[<&]/.test(content)) return content;
  const text = content
    .replace(TAG, (tag) => (BREAK.test(tag) ? '\n' : /^<img\b/i.test(tag) ? '[image]' : ''))
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
      if (name[0] === '#') {
        const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : Number(name.slice(1));
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
      }
      return ENTITIES[name.toLowerCase()] ?? whole;
    });
  return text.replace(/\n{3,}/g, '\n\n').trim();
}

const LABEL_AHEAD = (label: string) => new RegExp(`^\\s*${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*[.．、:：)）]`);

/** Options as lines `A. …`; an object's keys are its labels, and a value that already starts with its label keeps it once. */
export function optionLines(options: ReviewQuestion['options']): string[] {
  if (!options) return [];
  const entries = Array.isArray(options) ? options.map((value, i) => [String.fromCharCode(65 + i), value] as const) : Object.entries(options);
  return entries.map(([label, value]) => {
    const text = htmlToText(String(value)).trim();
    return LABEL_AHEAD(label).test(text) ? text : `${label}. ${text}`;
  });
}

/** The text the screen shows and diffs for one question: stem, then its options. */
export function questionText(question: Pick<ReviewQuestion, 'content' | 'options'>): string {
  const lines = optionLines(question.options);
  const stem = htmlToText(question.content).trimEnd();
  return lines.length ? `${stem}\n${lines.join('\n')}` : stem;
}
