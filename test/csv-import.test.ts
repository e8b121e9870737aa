import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { startTestService, type TestService } from './support/service.ts';
import { csvRowToObject, readCsvRecords } from '../src/questions/csv.ts';

/** Feeds text in small chunks so records and quotes straddle chunk boundaries. */
function streamOf(text: string, chunk = 3): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, (at += chunk)));
    },
  });
}

async function records(text: string, max = 1000) {
  const out = [];
  for await (const record of readCsvRecords(streamOf(text), max)) out.push(record);
  return out;
}

describe('readCsvRecords', () => {
  it('reads quoted commas, doubled quotes and line breaks inside quotes across chunks', async () => {
    const got = await records('\uFEFFa,b,c\r\n"x, y","say ""hi""","line1\nline2"\n\n1,,3');
    expect(got).toEqual([
      { index: 0, fields: ['a', 'b', 'c'] },
      { index: 1, fields: ['x, y', 'say "hi"', 'line1\nline2'] },
      { index: 2, fields: ['1', '', '3'] },
    ]);
  });

  it('reports an over-long record without buffering it, and goes on', async () => {
    const got = await records(`a\n${'x'.repeat(50)}\nok\n`, 10);
    expect(got).toEqual([{ index: 0, fields: ['a'] }, { index: 1, tooLong: true }, { index: 2, fields: ['ok'] }]);
  });

  it('parses JSON option cells and drops empty cells', () => {
    expect(csvRowToObject(['content', 'options', 'answer', 'analysis'], ['Q', '{"A":"1","B":"2"}', 'A', ''])).toEqual({
      content: 'Q',
      options: { A: '1', B: '2' },
      answer: 'A',
    });
  });
});

describe('POST /api/questions with text/csv', () => {
  let service: TestService;
  beforeAll(async () => {
    // On TEST_DATABASE_URL's PostgreSQL when set, like the rest of the suite.
    service = await startTestService({ WORKERS: '1' }, {
      workerFile: new URL('./fixtures/slow-worker.ts', import.meta.url),
    });
  });
  afterAll(() => service.stop());

  const post = (body: string) =>
    fetch(`${service.url}/api/questions`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body }).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as { code: number; message: string; data: any },
    }));

  it('imports the good rows and reports the bad one by its data-row index', async () => {
    const csv = [
      'external_id,type_name,subject_name,channel_code,content,options,answer',
      'c1,单选题,数学,default,"1+1=?","[""1"",""2""]",B',
      'c2,单选题,数学,default,,,',
      'c3,填空题,数学,default,"写出 ""π"" 的前两位, 用逗号分隔",,3.1',
    ].join('\n');
    const { status, body } = await post(csv);
    expect(status).toBe(201);
    expect(body.data.inserted).toBe(2);
    expect(body.data.rejected).toEqual([{ index: 1, message: expect.stringContaining('content') }]);
    const list = await fetch(`${service.url}/api/questions?q=${encodeURIComponent('前两位')}`).then((r) => r.json() as Promise<any>);
    expect(list.data.items[0].content).toBe('写出 "π" 的前两位, 用逗号分隔');
  });

  it('answers 422 when the header row does not name the fields', async () => {
    const { status, body } = await post('1,单选题,数学\n2,单选题,数学\n');
    expect(status).toBe(422);
    expect(body.code).toBe(422);
    expect(body.message).toContain('header');
  });
});
