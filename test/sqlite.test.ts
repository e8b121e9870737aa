import { afterEach, describe, expect, it } from 'bun:test';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from 'bun:sqlite';
import { openSqlite } from '../src/db/sqlite.ts';

describe('openSqlite', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  function fill(path: string) {
    const database = openSqlite(path);
    database.prepare('create table t (id integer primary key, body text not null)').run([]);
    const insert = database.prepare('insert into t (body) values (?)');
    database.prepare('begin').run([]);
    for (let i = 0; i < 500; i++) insert.run([`${i}:${'正文'.repeat(1000)}`]);
    database.prepare('commit').run([]);
    return database;
  }

  it('checkpoints committed pages into the database file in the background, with no further commit', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sqlite-test-'));
    const path = join(dir, 'db.sqlite');
    const database = fill(path);
    // ~3 MB committed: far below the main connection's own autocheckpoint threshold, so only the background thread moves it.
    const deadline = Date.now() + 5000;
    while (statSync(path).size < 2_000_000 && Date.now() < deadline) await Bun.sleep(50);
    expect(statSync(path).size).toBeGreaterThan(2_000_000);
    database.close();
  });

  it('reuses prepared statements and still answers every query right', () => {
    dir = mkdtempSync(join(tmpdir(), 'sqlite-test-'));
    const database = fill(join(dir, 'db.sqlite'));
    // More distinct statements than are kept prepared, each asked twice.
    for (let round = 0; round < 2; round++) {
      for (let k = 1; k <= 100; k++) {
        const rows = database.prepare(`select count(*) as n from t where id <= ${k}`).all([]) as { n: number }[];
        expect(rows[0]!.n).toBe(k);
      }
    }
    expect(database.prepare('select count(*) as n from t where id > ?').all([400])).toEqual([{ n: 100 }]);
    database.close();
  });

  it('closes the background connection first, so closing leaves no WAL file behind', () => {
    dir = mkdtempSync(join(tmpdir(), 'sqlite-test-'));
    const path = join(dir, 'db.sqlite');
    fill(path).close();
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('makes a new database with 16 KB pages and opens one made with 4 KB pages as it is', () => {
    dir = mkdtempSync(join(tmpdir(), 'sqlite-test-'));
    const fresh = fill(join(dir, 'new.sqlite'));
    expect(fresh.prepare('pragma page_size').all([])).toEqual([{ page_size: 16_384 }]);
    fresh.close();
    // A bank made before: 4 KB pages, WAL. Reopened, it keeps its pages and its rows, and takes new ones.
    const oldPath = join(dir, 'old.sqlite');
    const old = new Database(oldPath, { create: true });
    old.exec('PRAGMA page_size = 4096');
    old.exec('PRAGMA journal_mode = WAL');
    old.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL); INSERT INTO t (body) VALUES ('kept')");
    old.close();
    const reopened = openSqlite(oldPath);
    expect(reopened.prepare('pragma page_size').all([])).toEqual([{ page_size: 4096 }]);
    reopened.prepare("insert into t (body) values ('added')").run([]);
    expect(reopened.prepare('select body from t order by id').all([])).toEqual([{ body: 'kept' }, { body: 'added' }]);
    reopened.close();
  });
});
