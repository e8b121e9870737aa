import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { checkGroup } from './check.ts';
import { FRESH_ENTRIES, walkFreshOfGroup, type GroupKey, type UnprintedRow } from './print-queue.ts';

/** Ids from..through of one group whose rows all have a valid print or are on the backlog. */
interface PrintedSpan {
  from: number;
  through: number;
}

/**
 * A check's catch-up looks for its group's new rows above the print backlog's mark
 * (print-queue.ts). Right after a big import with a task running (the backfill waits for it, so
 * the mark stays put), every check walked up to FRESH_ENTRIES (20,000) of its group's rows and
 * looked up as many prints, although the task and the first checks had printed them: ~10 ms of
 * SQLite on the main thread a check (100 concurrent checks on a 1M bank: p50 1 s). This
 * remembers, per group, a span of ids known printed or on the backlog: a check walks only the
 * rows newer than the span, then on down from where an earlier walk stopped short of the mark.
 *
 * Sound because SQLite gives ids in commit order (AUTOINCREMENT, one writer): a row added later
 * has a larger id than any span holds, and a row changed later goes on the backlog (its UPDATE
 * trigger). A span is kept only once the rows its walk found are printed.
 */
export class FreshRows {
  private readonly spans = new Map<string, PrintedSpan>();
  /**
   * The walk of a group that may go on down past its span, while it runs (until its rows are
   * printed). Concurrent checks of the group wait for it and look only past what it saw: 100
   * checks of one group at once each walked the same 20,000 rows, and the span grew by one walk
   * a round of them.
   */
  private readonly walking = new Map<string, Promise<void>>();

  /** maxEntries: group-index entries one check's walk reads at most (smaller in tests). */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly maxEntries = FRESH_ENTRIES,
  ) {}

  /**
   * Up to `limit` rows of the groups (one type and subject; these channels) above `mark` without a
   * valid print. Then call `settle(true)` once they are printed (the walk's spans are kept), or
   * `settle(false)` when printing them failed.
   */
  async find(mark: number, groups: readonly GroupKey[], limit: number): Promise<{ rows: UnprintedRow[]; settle(printed: boolean): void }> {
    const rows: UnprintedRow[] = [];
    const learnt: [string, PrintedSpan][] = [];
    const ending: (() => void)[] = [];
    const settle = (printed: boolean) => {
      if (printed) for (const [key, span] of learnt) this.keep(key, span);
      for (const end of ending) end();
    };
    // In one order for every check: a subject-wide check waits for one group's walk while it runs
    // another's, and two of them taking their groups in other orders could wait for each other.
    const keyed = groups.map((group) => ({ group, key: checkGroup(group.type_name, group.subject_name, group.channel_code) })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    try {
      for (const { group, key } of keyed) {
        if (rows.length >= limit) break;
        const running = this.walking.get(key);
        if (running) await running;
        else ending.push(this.startWalking(key));
        const known = this.spans.get(key);
        // The rows newer than the span (all of them above the mark, the first time).
        const above = Math.max(mark, known?.through ?? mark);
        const newer = await walkFreshOfGroup(this.db, group, above, Number.MAX_SAFE_INTEGER, limit - rows.length, this.maxEntries);
        rows.push(...newer.rows);
        // The walk's span joins the known one when they touch (keep); with more new rows than a
        // walk reads, a gap is left and the walk's own span replaces it.
        let from = newer.lowest;
        const touches = known !== undefined && newer.lowest <= known.through + 1;
        if (touches && !running && known.from > mark + 1 && rows.length < limit && newer.entries < this.maxEntries) {
          // On down from where an earlier walk stopped, towards the mark.
          const older = await walkFreshOfGroup(this.db, group, mark, known.from, limit - rows.length, this.maxEntries - newer.entries);
          rows.push(...older.rows);
          from = older.lowest;
        }
        learnt.push([key, { from, through: newer.highest ?? above }]);
      }
    } catch (error) {
      settle(false);
      throw error;
    }
    return { rows: rows.sort((a, b) => a.id - b.id), settle };
  }

  /**
   * Every row of the group with an id in from..through has a valid print or is on the backlog:
   * a task has just read the whole group in id order and stored the prints it computed. The first
   * check of each group after a big import and a task then walks nothing of what the task read
   * (it walked 20,000 rows: ~10 ms of the main thread, 100 concurrent checks' first round p50 1 s).
   * The task leaves out resolved duplicates; they were printed by the run that clustered them.
   */
  printed(group: GroupKey, from: number, through: number): void {
    this.keep(checkGroup(group.type_name, group.subject_name, group.channel_code), { from, through });
  }

  /** Two spans that overlap or touch become one; of two apart, the newer rows' is kept (a walk starts above it). */
  private keep(key: string, span: PrintedSpan) {
    const known = this.spans.get(key);
    if (known !== undefined && span.from <= known.through + 1 && known.from <= span.through + 1) {
      this.spans.set(key, { from: Math.min(span.from, known.from), through: Math.max(span.through, known.through) });
    } else if (known === undefined || span.through > known.through) {
      this.spans.set(key, span);
    }
  }

  /** Marks this check's walk of the group as the one running; answers how to end it. */
  private startWalking(key: string): () => void {
    let end!: () => void;
    const walk = new Promise<void>((resolve) => (end = resolve));
    this.walking.set(key, walk);
    return () => {
      if (this.walking.get(key) === walk) this.walking.delete(key);
      end();
    };
  }
}
