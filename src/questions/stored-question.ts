import { fieldErrors } from '../http/errors.ts';
import { questionInput, type QuestionInput } from './question.schema.ts';

/**
 * A long text field: a string, or its UTF-8 bytes as the NDJSON parsing thread hands them over
 * (packed-rows.ts), which SQLite stores as the same text.
 */
export type StoredText = string | Uint8Array;

/**
 * A validated question as the `questions` table stores it (options and answer as JSON text),
 * with the hash that tells a re-import "unchanged" from "updated". Built by pure code, so the
 * NDJSON parsing thread builds these and the main thread only binds them.
 */
export interface StoredQuestion {
  external_id: string | null;
  type_name: string;
  subject_name: string;
  channel_code: string;
  content: StoredText;
  options: StoredText | null;
  answer: StoredText | null;
  analysis: StoredText | null;
  row_hash: string;
}

export function toStoredFields(input: QuestionInput): StoredQuestion {
  const fields = {
    external_id: input.external_id ?? null,
    type_name: input.type_name,
    subject_name: input.subject_name,
    channel_code: input.channel_code,
    content: input.content,
    options: input.options == null ? null : JSON.stringify(input.options),
    answer: input.answer == null ? null : JSON.stringify(input.answer),
    analysis: input.analysis ?? null,
  };
  return { ...fields, row_hash: rowHash(fields) };
}

/** Marks hashes made by `rowHash`; a stored hash without it was made by `legacyRowHash`. */
const ROW_HASH_VERSION = '2.';

/**
 * The hash a re-import compares to tell "unchanged" from "updated": wyhash over the fields'
 * UTF-8 bytes, one field after another (each hashed with its own length, seeded by the hash
 * so far), after a header that names the short fields and which long ones are null, so no
 * two different rows share an input. Hashing the bytes directly costs a tenth of the
 * `JSON.stringify` of the whole row that `legacyRowHash` needs; a string and its UTF-8 bytes
 * hash alike, so rows from either path of the import agree.
 */
export function rowHash(row: Omit<StoredQuestion, 'row_hash'>): string {
  let hash = Bun.hash(JSON.stringify([row.external_id, row.type_name, row.subject_name, row.channel_code, row.options === null, row.answer === null, row.analysis === null]));
  hash = Bun.hash(row.content, hash);
  if (row.options !== null) hash = Bun.hash(row.options, hash);
  if (row.answer !== null) hash = Bun.hash(row.answer, hash);
  if (row.analysis !== null) hash = Bun.hash(row.analysis, hash);
  return ROW_HASH_VERSION + hash.toString(36);
}

export const isLegacyRowHash = (stored: string) => !stored.startsWith(ROW_HASH_VERSION);

/**
 * The hash rows stored before `rowHash` carry; a re-import compares it instead for those, so
 * they are not all reported "updated" once. Needs the long fields as strings.
 */
export function legacyRowHash(row: StoredQuestion & { content: string; options: string | null; answer: string | null; analysis: string | null }): string {
  const { external_id, type_name, subject_name, channel_code, content, options, answer, analysis } = row;
  return Bun.hash(JSON.stringify({ external_id, type_name, subject_name, channel_code, content, options, answer, analysis })).toString(36);
}

/** One imported row, validated: the row to store, or the message that rejects it. */
export function validateRow(value: unknown): { row: StoredQuestion } | { message: string } {
  const parsed = questionInput.safeParse(value);
  if (parsed.success) return { row: toStoredFields(parsed.data) };
  const first = fieldErrors(parsed.error)[0];
  return { message: first ? `${first.path || 'row'}: ${first.message}` : 'invalid question' };
}
