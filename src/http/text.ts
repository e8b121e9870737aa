import { z } from 'zod';

/**
 * Text the databases can store exactly as sent. Strings travel to SQLite and PostgreSQL as
 * UTF-8: a lone surrogate ("\udc00" in JSON) has no UTF-8 form and was stored as U+FFFD, so
 * an id came back different from the one sent, and importing it again failed on the unique
 * key; PostgreSQL refuses NUL in text outright (a 500 for the whole request). Such a value is
 * the client's mistake: refused with this message (a bad row is rejected, the rest stored).
 */
export const NOT_STORABLE = 'must be valid Unicode text without NUL characters (a lone surrogate or NUL cannot be stored as sent)';

// `String.prototype.isWellFormed` (ES2024) is native in Bun; the project's lib setting is ES2023.
const wellFormed = (value: string) => (value as string & { isWellFormed(): boolean }).isWellFormed();

export const isStorable = (value: string): boolean => wellFormed(value) && !value.includes('\u0000');

/** A string schema that refuses what cannot be stored exactly. */
export const storableString = () => z.string().refine(isStorable, NOT_STORABLE);
