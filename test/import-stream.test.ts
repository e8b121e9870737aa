import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { sql } from 'kysely';
import { connectDatabase, type DatabaseHandle } from '../src/db/connect.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestService, type TestService } from './support/service.ts';

describe('NDJSON import as a stream', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({}, { workerFile: new URL('./fixtures/slow-worker.ts', import.meta.url) });
  });
  afterAll(() => service.stop());

  it('imports a body produced chunk by chunk, with lines split across chunks and one oversized line', async () => {
    const rows = 20_000;
    const encoder = new TextEncoder();
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === rows) return controller.close();
        // Every 5,000th row is an oversized line (over 1 MB) that must be rejected alone.
        const line =
          sent % 5000 === 4999
            ? JSON.stringify({ type_name: '解答题', subject_name: '数学', content: 'y'.repeat(1_100_000) })
            : JSON.stringify({ external_id: `s-${sent}`, type_name: '解答题', subject_name: '数学', channel_code: 'stream', content: `流式导入的第 ${sent} 题` });
        const bytes = encoder.encode(`${line}\n`);
        // Cut each line in two so no chunk boundary falls on a newline.
        const cut = Math.floor(bytes.length / 2);
        controller.enqueue(bytes.slice(0, cut));
        controller.enqueue(bytes.slice(cut));
        sent++;
      },
    });
    const response = await fetch(`${service.url}/api/questions`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body,
      duplex: 'half',
    } as RequestInit);
    const result = (await response.json()) as any;
    expect(response.status).toBe(201);
    expect(result.data.inserted).toBe(rows - 4);
    expect(result.data.rejected.map((row: { index: number }) => row.index)).toEqual([4999, 9999, 14999, 19999]);
    expect(result.data.rejected[0].message).toContain('longer than');
    const count = await service.api('GET', '/api/questions?channel_code=stream&page_size=1');
    expect(count.body.data.total).toBe(rows - 4);
  });
});

describe('NDJSON import when the parsing thread dies', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({}, { ndjsonParserFile: new URL('./fixtures/crashing-ndjson-parser.ts', import.meta.url) });
  });
  afterAll(() => service.stop());

  const line = (i: number, content = `第 ${i} 题，线程崩溃之前`) => `${JSON.stringify({ external_id: `crash-${i}`, type_name: '解答题', subject_name: '数学', channel_code: 'crash', content })}\n`;

  it('answers 500 with what was saved, keeps every row parsed before the failure, and parses the next import in a new thread', async () => {
    const encoder = new TextEncoder();
    const before = Array.from({ length: 3000 }, (_, i) => line(i)).join('');
    let step = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        // The good rows first (well over the 64 KB a message holds), then, once they are parsed, the crashing line.
        if (step === 0) controller.enqueue(encoder.encode(before));
        else if (step === 1) {
          await Bun.sleep(500);
          controller.enqueue(encoder.encode(line(3000, 'CRASH_PARSER') + line(3001)));
        } else controller.close();
        step++;
      },
    });
    const response = await fetch(`${service.url}/api/questions`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body, duplex: 'half' } as RequestInit);
    const answer = (await response.json()) as { code: number; message: string; data: unknown };
    expect(response.status).toBe(500);
    expect(answer.code).toBe(500);
    expect(answer.data).toBeNull();
    expect(answer.message).toContain('the NDJSON parsing thread failed');
    expect(answer.message).toContain('inserted 3000,');
    const stored = await service.api('GET', '/api/questions?channel_code=crash&page_size=1');
    expect(stored.body.data.total).toBe(3000);

    // Sending the file again is safe: the saved rows come back unchanged, the rest is inserted.
    const again = await service.api('POST', '/api/questions', before + line(3001), { 'content-type': 'application/x-ndjson' });
    expect(again.status).toBe(201);
    expect(again.body.data).toMatchObject({ inserted: 1, updated: 0, unchanged: 3000, rejected: [] });
  });
});

describe('NDJSON import when the database refuses a batch', () => {
  let service: TestService;
  let database: TestDatabase;
  let handle: DatabaseHandle;
  beforeAll(async () => {
    // A database of its own (a file on SQLite), so the test can add a trigger the service's connection then meets.
    database = await createTestDatabase('refused-batch');
    service = await startTestService({ DATABASE_URL: database.url });
    handle = await connectDatabase(database.url, { background: false });
    if (handle.dialect === 'sqlite') {
      await sql`CREATE TRIGGER refuse BEFORE INSERT ON questions WHEN new.content = 'REFUSED' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`.execute(handle.db);
    } else {
      await sql`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.content = 'REFUSED' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`.execute(handle.db);
      await sql`CREATE TRIGGER refuse BEFORE INSERT ON questions FOR EACH ROW EXECUTE FUNCTION refuse()`.execute(handle.db);
    }
  });
  afterAll(async () => {
    await handle.db.destroy();
    await service.stop();
    await database.drop();
  });

  it('answers 500, keeps the batches saved before it and nothing after, though the next batch was being read while it was saved', async () => {
    // Batches of 10,000 (question.routes.ts): the second holds the refused row, the third fills while the second is saved.
    const lines = Array.from({ length: 35_000 }, (_, i) =>
      JSON.stringify({ external_id: `r-${i}`, type_name: '解答题', subject_name: '数学', channel_code: 'refused', content: i === 15_000 ? 'REFUSED' : `第 ${i} 题` }),
    );
    const response = await service.api('POST', '/api/questions', `${lines.join('\n')}\n`, { 'content-type': 'application/x-ndjson' });
    expect(response.status).toBe(500);
    expect(response.body.code).toBe(500);
    const stored = await service.api('GET', '/api/questions?channel_code=refused&page_size=1');
    expect(stored.body.data.total).toBe(10_000);
    // The service goes on: the rows after the refused one import.
    const rest = await service.api('POST', '/api/questions', `${lines.slice(15_001).join('\n')}\n`, { 'content-type': 'application/x-ndjson' });
    expect(rest.status).toBe(201);
    expect(rest.body.data.inserted).toBe(20_000 - 1);
  });
});
