import { RecentlyUsed } from '../../workers/dedup/recently-used.ts';
import type { StoredVersion } from './check.ts';

/**
 * Candidates' texts as last read, by question id, each with its version (`row_hash`), the least
 * recently used dropped past a budget of characters. A check's candidates are mostly the same
 * rows again (a group's near copies and stock-phrase questions come up for check after check),
 * and reading their texts was a third of a check's CPU: the server fetching them, this thread
 * decoding them. With the cache a check reads only the versions of the rows held here, and the
 * texts of the others; a text is used only for the version the database has now.
 */
export class StoredTextCache {
  private readonly texts: RecentlyUsed<number, StoredVersion>;

  constructor(maxChars: number) {
    this.texts = new RecentlyUsed(maxChars, sizeOf);
  }

  has(id: number): boolean {
    return this.texts.has(id);
  }

  /** The text of question `id` if it is held for `version`; it becomes the most recently used. */
  take(id: number, version: string): StoredVersion | undefined {
    const held = this.texts.get(id);
    return held !== undefined && held.version === version ? held : undefined;
  }

  put(id: number, text: StoredVersion): void {
    this.texts.set(id, text);
  }

  drop(id: number): void {
    this.texts.delete(id);
  }

  get size(): number {
    return this.texts.size;
  }
}

function sizeOf(text: StoredVersion): number {
  return text.content.length + (text.options?.length ?? 0) + text.version.length;
}
