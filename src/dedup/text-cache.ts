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
  private readonly entries = new Map<number, StoredVersion>();
  private chars = 0;

  constructor(private readonly maxChars: number) {}

  has(id: number): boolean {
    return this.entries.has(id);
  }

  /** The text of question `id` if it is held for `version`; it becomes the most recently used. */
  take(id: number, version: string): StoredVersion | undefined {
    const held = this.entries.get(id);
    if (held === undefined || held.version !== version) return undefined;
    // Map keeps insertion order: the first key is the least recently used.
    this.entries.delete(id);
    this.entries.set(id, held);
    return held;
  }

  put(id: number, text: StoredVersion): void {
    this.drop(id);
    const size = sizeOf(text);
    if (size > this.maxChars) return;
    this.entries.set(id, text);
    this.chars += size;
    for (const oldest of this.entries.keys()) {
      if (this.chars <= this.maxChars) break;
      this.drop(oldest);
    }
  }

  drop(id: number): void {
    const held = this.entries.get(id);
    if (held === undefined) return;
    this.entries.delete(id);
    this.chars -= sizeOf(held);
  }

  get size(): number {
    return this.entries.size;
  }
}

function sizeOf(text: StoredVersion): number {
  return text.content.length + (text.options?.length ?? 0) + text.version.length;
}
