import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import { Piscina } from 'piscina';
import pino from 'pino';
import { BankIndex, type BankIndexDeps } from '../src/dedup/bank-index.ts';
import { checkOnPool, printOf } from '../src/dedup/check.ts';
import { storePrints } from '../src/dedup/fingerprints.ts';
import { FINGERPRINT_WORDS } from '../workers/protocol.ts';
import { upsertQuestions } from '../src/questions/question.repository.ts';
import type { QuestionInput } from '../src/questions/question.schema.ts';
import { loadCorpus, scaleCorpus } from './bench/corpus.ts';
import { openTestDatabase } from './support/database.ts';
import { waitingForPrint } from './support/print-backlog.ts';

/**
 * The check index of a service started on an empty bank: the rows it learns later are sorted
 * into runs, so a check looks them up instead of scanning them one by one. Real database (SQLite,
 * or PostgreSQL with TEST_DATABASE_URL), the real print pool and check pool.
 */
setDefaultTimeout(60_000);

const corpus = loadCorpus();
const now = () => new Date().toISOString();
let handle: Awaited<ReturnType<typeof openTestDatabase>>;
let printPool: Piscina;
let checkPool: Piscina;

beforeAll(async () => {
  handle = await openTestDatabase('bank-index');
  printPool = new Piscina({ filename: new URL('../workers/dedup.worker.ts', import.meta.url).href, minThreads: 1, maxThreads: 1 });
  checkPool = new Piscina({ filename: new URL('../workers/check.worker.ts', import.meta.url).href, minThreads: 1, maxThreads: 1 });
});

afterAll(async () => {
  await printPool.close({ force: true });
  await checkPool.close({ force: true });
  await handle.close();
});

/** Corpus questions from..to-1 as 单选题/数学 rows of `channel`, external ids `${prefix}${n}`. */
const corpusRows = (channel: string, prefix: string, from: number, to: number) =>
  scaleCorpus(corpus.base, to)
    .slice(from)
    .map((q, i) => ({ external_id: `${prefix}${from + i}`, type_name: '单选题', subject_name: '数学', channel_code: channel, content: q.content }) as QuestionInput);
const rowsOf = (from: number, to: number) => corpusRows('sorting', 'b', from, to);

/** A database of its own holding `count` corpus rows of `channel`, and those rows as stored, by id. */
async function ownBank(name: string, channel: string, prefix: string, count: number) {
  const own = await openTestDatabase(name);
  const rows = corpusRows(channel, prefix, 0, count);
  await upsertQuestions(own.db, rows, now());
  const stored = await own.db.selectFrom('questions').select(['id', 'row_hash', 'content']).orderBy('id').execute();
  return { own, db: own.db, rows, stored };
}

/** A BankIndex on `db` with the test's pools, silent, its background backfill a minute away unless told. */
const bankOn = (db: BankIndexDeps['db'], options: Pick<BankIndexDeps, 'busy' | 'backfillDelayMs'> = {}) =>
  new BankIndex({ db, pool: printPool, logger: pino({ level: 'silent' }), printWorker: new URL('../workers/print.worker.ts', import.meta.url), checks: checkOnPool(checkPool), backfillDelayMs: 60_000, ...options });

async function settled(bank: BankIndex) {
  for (let turn = 0; turn < 100 && bank.pending > 0; turn++) await Bun.sleep(5);
  return bank.pending;
}

describe('the check index of a service started on an empty bank', () => {
  it('sorts what it learns afterwards into runs, import after import, and its checks find it', async () => {
    const { db } = handle;
    const bank = bankOn(db);
    await bank.load();
    expect(bank.size).toBe(0);
    try {
      for (const [from, to] of [[0, 400], [400, 700]] as const) {
        const rows = rowsOf(from, to);
        await upsertQuestions(db, rows, now());
        const probe = rows[rows.length - 1]!;
        // The check prints the group's new rows itself (its catch-up), then looks them up.
        const hits = await bank.check({ ...probe, channel_code: probe.channel_code!, options: null }, {});
        expect(hits.length).toBeGreaterThan(0);
        expect(hits[0]!.similarity).toBe(1);
        expect(bank.size).toBe(to);
        expect(await settled(bank)).toBe(0);
      }
    } finally {
      await bank.close();
    }
  });

  it('reads and verifies the texts of more candidates than one read takes (500), all of them', async () => {
    const { db } = handle;
    const stem = '阅读下面的材料，根据要求写作。人们因技术发展得以更好地掌控时间，但也有人因此成了时间的仆人。这句话引发了你怎样的联想与思考？请写一篇文章。';
    // One CJK character apart each: near copies of one another, none the same text.
    const rows = Array.from({ length: 700 }, (_, i) => ({ external_id: `near${i}`, type_name: '作文', subject_name: '语文', channel_code: 'many', content: `${stem}${String.fromCharCode(0x4e00 + 7 * i)}` }) as QuestionInput);
    await upsertQuestions(db, rows, now());
    const bank = bankOn(db);
    await bank.load();
    try {
      const hits = await bank.check({ type_name: '作文', subject_name: '语文', channel_code: 'many', content: stem, options: null }, {});
      expect(hits.length).toBeGreaterThan(500);
      expect(hits.every((hit) => hit.reason.stage === 'similar' && hit.similarity >= 0.8)).toBe(true);
      expect(new Set(hits.map((hit) => hit.question_id)).size).toBe(hits.length);
    } finally {
      await bank.close();
    }
  });
});

describe('the texts of checks\' candidates, kept between checks', () => {
  it('are used only for the version stored now: a changed text is read again, a deleted row is left out', async () => {
    const { db } = handle;
    const stem = '阅读下面的材料，根据要求写作。有人说，读书是一场与古今智者的对话，也有人说，读书不如行路。对此你有怎样的看法？请写一篇不少于八百字的文章。';
    const group = { type_name: '作文', subject_name: '语文', channel_code: 'text-cache' };
    await upsertQuestions(db, ['甲', '丙'].map((tail, i) => ({ ...group, external_id: `tc${i}`, content: `${stem}${tail}` }) as QuestionInput), now());
    const [changed, deleted] = (await db.selectFrom('questions').select('id').where('channel_code', '=', group.channel_code).orderBy('id').execute()).map((row) => Number(row.id));
    const bank = bankOn(db);
    await bank.load();
    const check = async () => (await bank.check({ ...group, content: `${stem}乙`, options: null }, {})).map((hit) => hit.question_id).sort((a, b) => a - b);
    try {
      // Both near copies, verified on their texts (now held).
      expect(await check()).toEqual([changed!, deleted!]);
      // Behind the index's back, as another instance's writes before this one hears of them: one
      // row becomes another question (a new version, not on the backlog), the other is deleted.
      await db.updateTable('questions').set({ content: '已知集合 A={1,2,3}，B={2,3,4}，求 A∩B。', row_hash: 'changed' }).where('id', '=', changed!).execute();
      await db.deleteFrom('question_backlog').where('question_id', '=', changed!).execute();
      await db.deleteFrom('question_prints').where('question_id', '=', deleted!).execute();
      await db.deleteFrom('questions').where('id', '=', deleted!).execute();
      expect(await check()).toEqual([]);
    } finally {
      await bank.close();
    }
  });
});

describe('new rows above the print backlog’s mark (migration 014)', () => {
  it('are printed by a check of their group while the backfill waits, then by the backfill, which moves the mark past them', async () => {
    const own = await openTestDatabase('print-queue');
    const { db, dialect } = own;
    let busy = true;
    const bank = bankOn(db, { busy: () => busy, backfillDelayMs: 0 });
    const texts = scaleCorpus(corpus.base, 6).map((q) => q.content);
    const row = (id: string, channel: string, content: string) => ({ external_id: id, type_name: '单选题', subject_name: '数学', channel_code: channel, content }) as QuestionInput;
    const group = (channel: string) => ({ type_name: '单选题', subject_name: '数学', channel_code: channel, options: null });
    try {
      await upsertQuestions(db, [row('a0', 'a', texts[0]!), row('a1', 'a', texts[1]!), row('b0', 'b', texts[2]!), row('b1', 'b', texts[3]!)], now());
      const ids = Object.fromEntries((await db.selectFrom('questions').select(['id', 'external_id']).execute()).map((q) => [q.external_id!, Number(q.id)]));
      const mark = async () => Number((await db.selectFrom('question_print_queue').select('queued_through').executeTakeFirstOrThrow()).queued_through);
      const queued = async () => (await db.selectFrom('question_backlog').select('question_id').execute()).length;
      const waiting = async () => (await waitingForPrint(db)).map((w) => w.question_id).sort((x, y) => x - y);
      // SQLite: the import left its rows above the mark, off the backlog. PostgreSQL: its trigger queued them; nothing is above the mark.
      expect(await queued()).toBe(dialect === 'sqlite' ? 0 : 4);
      expect(await mark()).toBe(dialect === 'sqlite' ? 0 : Number.MAX_SAFE_INTEGER);
      expect(await waiting()).toEqual([ids.a0!, ids.a1!, ids.b0!, ids.b1!]);

      await bank.load();
      // A check prints its own group's waiting rows first, so it finds them; the rest still wait (a "task" holds the backfill).
      const hits = await bank.check({ ...group('a'), content: texts[1]! }, {});
      expect(hits.map((hit) => [hit.question_id, hit.similarity])).toEqual([[ids.a1!, 1]]);
      expect(await waiting()).toEqual([ids.b0!, ids.b1!]);

      // b1 changed after the import: on the backlog and (SQLite) above the mark, printed once, in its new version.
      await upsertQuestions(db, [row('b1', 'b', texts[4]!)], now());
      expect(await queued()).toBeGreaterThan(0);
      // A subject-wide check from another channel reaches b's waiting rows too.
      const wide = await bank.check({ ...group('c'), content: texts[4]! }, { scope: 'subject' });
      expect(wide.map((hit) => [hit.question_id, hit.similarity])).toEqual([[ids.b1!, 1]]);
      expect(await waiting()).toEqual([]);

      // Rows imported while the backfill may run: it prints them and moves the mark to the newest id.
      await upsertQuestions(db, [row('d0', 'd', texts[5]!), row('d1', 'd', texts[0]!)], now());
      busy = false;
      bank.scheduleBackfill(0);
      for (let i = 0; i < 400 && (await waiting()).length > 0; i++) await Bun.sleep(10);
      expect(await waiting()).toEqual([]);
      const newest = Number((await db.selectFrom('questions').select((eb) => eb.fn.max('id').as('id')).executeTakeFirstOrThrow()).id);
      for (let i = 0; i < 400 && dialect === 'sqlite' && (await mark()) < newest; i++) await Bun.sleep(10);
      expect(await mark()).toBe(dialect === 'sqlite' ? newest : Number.MAX_SAFE_INTEGER);
      expect(await queued()).toBe(0);
      expect(bank.size).toBe(6);
    } finally {
      await bank.close();
      await own.close();
    }
  });
});

describe('prints stored before the MinHash (64 bytes)', () => {
  it('are found by checks at once, are not on the backlog, and are printed again in the background, in place', async () => {
    const { own, db, rows, stored } = await ownBank('print-legacy', 'legacy', 'm', 300);
    // What a service before the MinHash stored: the first 16 words of today's print.
    await db
      .insertInto('question_prints')
      .values(stored.map((row) => ({ question_id: row.id, row_hash: row.row_hash, print: Buffer.from(printOf(row.content, null).buffer, 0, 64) })))
      .execute();
    const printBytes = async () => (await db.selectFrom('question_prints').select('print').execute()).map((row) => row.print.byteLength);
    let busy = true;
    const bank = bankOn(db, { busy: () => busy, backfillDelayMs: 10 });
    try {
      await bank.load();
      expect(bank.size).toBe(rows.length);
      expect(await waitingForPrint(db)).toEqual([]);
      const probe = rows[rows.length - 1]!;
      const hits = await bank.check({ ...probe, options: null }, {});
      expect(hits.filter((hit) => hit.similarity === 1).map((hit) => hit.question_id)).toContain(Number(stored[stored.length - 1]!.id));
      // The check printed nothing (a catch-up would have): every print is still the old one.
      expect(new Set(await printBytes())).toEqual(new Set([64]));
      busy = false;
      bank.scheduleBackfill(0);
      for (let wait = 0; wait < 400 && (await printBytes()).some((bytes) => bytes !== 96); wait++) await Bun.sleep(25);
      expect(new Set(await printBytes())).toEqual(new Set([96]));
      // Written over the rows held: nothing new to sort, the same questions found.
      expect(bank.size).toBe(rows.length);
      expect(await settled(bank)).toBe(0);
      expect((await bank.check({ ...probe, options: null }, {})).map((hit) => hit.question_id)).toEqual(hits.map((hit) => hit.question_id));
    } finally {
      await bank.close();
      await own.close();
    }
  });
});

describe('loading the stored prints at start-up', () => {
  it('indexes every valid print, page after page, and leaves out a print of an older version', async () => {
    // More questions than one page of prints (2,000): the load must go on to the next pages.
    const { own, db, rows, stored } = await ownBank('print-load', 'load', 'l', 2300);
    const prints = new Uint32Array(stored.length * FINGERPRINT_WORDS);
    stored.forEach((row, i) => prints.set(printOf(row.content, null), i * FINGERPRINT_WORDS));
    await storePrints(db, stored.map((row, i) => ({ id: Number(row.id), rowHash: row.row_hash, row: i })), prints);
    // The last question changes after its print was stored: that print no longer counts.
    const changed = rows[rows.length - 1]!;
    await upsertQuestions(db, [{ ...changed, content: `${changed.content}（改）` }], now());
    const bank = bankOn(db, { busy: () => true });
    try {
      await bank.load();
      expect(bank.size).toBe(rows.length - 1);
      // A question of the last page is found by its stored print alone (nothing waits to be printed for it).
      const probe = rows[rows.length - 2]!;
      const hits = await bank.check({ ...probe, channel_code: 'load', options: null }, {});
      expect(hits.filter((hit) => hit.similarity === 1).map((hit) => hit.question_id)).toContain(Number(stored[stored.length - 2]!.id));
    } finally {
      await bank.close();
      await own.close();
    }
  });
});
