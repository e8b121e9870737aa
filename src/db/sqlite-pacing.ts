import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { nextTurn } from '../pace.ts';

/**
 * Main-thread time that SQLite statements may take back to back before the event loop turns.
 * bun:sqlite runs every statement synchronously and Kysely resolves its promise in the same
 * microtask queue, so a request made of many statements (a page of 500 clusters: 17 of them,
 * ~40 ms warm and several hundred cold on a 1,000,000-question bank) held every other request
 * and socket for all of them in one stretch.
 */
const STRETCH_BUDGET_MS = 10;

/**
 * Lets the event loop turn between two statements once the current stretch of SQLite work has
 * run past its budget. A turn taken inside a transaction keeps the connection (Kysely's driver
 * holds it for the whole transaction), so other queries simply wait for it, as they would on
 * PostgreSQL, whose every statement is a real round trip: the code is written for that already.
 * One per connection (made by connectDatabase), not shared.
 */
export class SqlitePacing implements KyselyPlugin {
  /** When the current stretch of statements began; undefined once the event loop has turned. */
  private stretchBegan: number | undefined;

  constructor(private readonly budgetMs = STRETCH_BUDGET_MS) {}

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const now = performance.now();
    if (this.stretchBegan === undefined) this.beginStretch(now);
    else if (now - this.stretchBegan > this.budgetMs) await nextTurn();
    return args.result;
  }

  private beginStretch(now: number) {
    this.stretchBegan = now;
    // Runs on the next turn of the event loop, whoever causes it: the next statement starts a new stretch.
    setImmediate(() => {
      this.stretchBegan = undefined;
    });
  }
}
