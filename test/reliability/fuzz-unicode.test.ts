import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { prng, type Rng } from '../support/fuzz.ts';
import { startTestService, type TestService } from '../support/service.ts';

/**
 * Invalid Unicode in every string field of every route (issue 15): lone surrogates and NUL in
 * JSON (`"\udc00"`, `"\u0000"`), and bytes that are not UTF-8 (a stray 0xFF, overlong and
 * surrogate encodings, a truncated sequence) in NDJSON, CSV and JSON bodies. No request may
 * fail on them (no 500), a bad row is rejected with a message while the good rows around it
 * are stored, and every stored id and group name is byte for byte the one sent.
 */
const QUESTION_STRING_FIELDS = ['external_id', 'type_name', 'subject_name', 'channel_code', 'content', 'analysis', 'options', 'answer', 'options_key'] as const;
/** JSON escapes a client can send that no database can store as sent. */
const BAD_ESCAPES = ['\\udc00', '\\ud800', '\\ud83d', 'x\\udfffy', '\\u0000', 'a\\u0000b', '\\ud800\\ud800', '\\udc00\\ud800'];
/** Raw byte sequences that are not UTF-8. */
const BAD_BYTES = [[0xff], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xe4, 0xb8], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]];
const GOOD_IDS = ['plain', '单选题-1', '𝕏-astral', 'e\u0301-combining', 'bom\ufeff-inside', '\u202e-bidi', '\uffff-nonchar'];

const encoder = new TextEncoder();
const concat = (parts: (string | number[])[]) => {
  const chunks = parts.map((part) => (typeof part === 'string' ? encoder.encode(part) : new Uint8Array(part)));
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
};

interface Sent {
  /** The row as a JSON text whose one field may carry a bad escape, or the bytes of a line with bad bytes. */
  line: (string | number[])[];
  good: boolean;
  external_id: string;
}

/** A good row, or one with a single string field made invalid (escape or raw bytes). */
function makeRow(rng: Rng, i: number, rawBytes: boolean): Sent {
  const external_id = `${rng.pick(GOOD_IDS)}-${i}`;
  const fields: Record<string, string> = { external_id, type_name: '单选题', subject_name: `科目${i % 3}`, channel_code: 'fuzz', content: `第${i}题：求 x^2 = ${i} 的解`, analysis: '解析' };
  const json = (value: unknown) => JSON.stringify(value);
  if (rng.next() < 0.4) return { line: [json({ ...fields, options: ['A', 'B'], answer: 'A' })], good: true, external_id };
  const field = rng.pick(QUESTION_STRING_FIELDS);
  // Build the JSON text around a marker, then put the bad piece where the marker is.
  const MARK = '\u0001MARK\u0001';
  const row: Record<string, unknown> = { ...fields };
  if (field === 'options') row.options = ['A', `B${MARK}`];
  else if (field === 'options_key') row.options = { [`A${MARK}`]: '1', B: '2' };
  else if (field === 'answer') row.answer = [`A${MARK}`];
  else row[field] = `${fields[field]}${MARK}`;
  const [before, after] = json(row).split(json(MARK).slice(1, -1));
  const bad = rawBytes ? rng.pick(BAD_BYTES) : rng.pick(BAD_ESCAPES);
  return { line: [before!, bad, after!], good: false, external_id };
}

describe('invalid Unicode in every string field', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService();
  });
  afterAll(() => service.stop());

  const stored = async () => {
    const items: { external_id: string; type_name: string; subject_name: string; channel_code: string; content: string; options: unknown; answer: unknown }[] = [];
    for (let page = 1; ; page++) {
      const body = (await service.api('GET', `/api/questions?channel_code=fuzz&page=${page}&page_size=500`)).body.data;
      items.push(...body.items);
      if (body.items.length < 500) return items;
    }
  };

  /** Sends the body twice: both answers 201, bad rows rejected by index with a message, good rows inserted then unchanged. */
  async function importTwice(type: string, body: Uint8Array, rows: Sent[], indexOf: (row: number) => number) {
    const expectedRejected = rows.flatMap((row, k) => (row.good ? [] : [indexOf(k)]));
    for (const round of [0, 1]) {
      const response = await fetch(`${service.url}/api/questions`, { method: 'POST', headers: { 'content-type': type }, body: body as unknown as BodyInit });
      const answer = (await response.json()) as any;
      expect({ type, round, status: response.status }).toEqual({ type, round, status: 201 });
      expect(answer.data.rejected.map((r: { index: number }) => r.index)).toEqual(expectedRejected);
      for (const rejection of answer.data.rejected) expect(rejection.message).toMatch(/UTF-8|Unicode text/);
      const good = rows.filter((row) => row.good).length;
      expect(round === 0 ? answer.data.inserted : answer.data.unchanged).toBe(good);
    }
  }

  it('JSON escapes: lone surrogates and NUL are rejected per row, in every field, and a re-import never fails', async () => {
    const rng = prng(1501);
    const rows = Array.from({ length: 300 }, (_, i) => makeRow(rng, i, false));
    const text = `[${rows.map((row) => row.line.join('')).join(',')}]`;
    await importTwice('application/json', encoder.encode(text), rows, (k) => k);
    const ndRows = Array.from({ length: 300 }, (_, i) => makeRow(rng, 1000 + i, false));
    await importTwice('application/x-ndjson', encoder.encode(ndRows.map((row) => row.line.join('')).join('\n')), ndRows, (k) => k);
  });

  it('NDJSON bytes that are not UTF-8 reject their line only, wherever the chunks are cut', async () => {
    const rng = prng(1502);
    const rows = Array.from({ length: 400 }, (_, i) => makeRow(rng, 2000 + i, true));
    const body = concat(rows.flatMap((row) => [...row.line, '\n']));
    await importTwice('application/x-ndjson', body, rows, (k) => k);
    // The same body again in 7-byte chunks (cutting every multi-byte character somewhere): the same answer.
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let start = 0; start < body.length; start += 7) controller.enqueue(body.slice(start, start + 7));
        controller.close();
      },
    });
    const response = await fetch(`${service.url}/api/questions`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: chunked });
    const answer = (await response.json()) as any;
    expect(response.status).toBe(201);
    expect(answer.data.rejected.map((r: { index: number }) => r.index)).toEqual(rows.flatMap((row, k) => (row.good ? [] : [k])));
    expect(answer.data.unchanged).toBe(rows.filter((row) => row.good).length);
  });

  it('CSV bytes that are not UTF-8 reject their record only (quoted line breaks included)', async () => {
    const rng = prng(1503);
    const rows: Sent[] = [];
    const parts: (string | number[])[] = ['\ufeffexternal_id,type_name,subject_name,channel_code,content\n'];
    for (let i = 0; i < 300; i++) {
      const external_id = `${rng.pick(GOOD_IDS)}-csv-${i}`;
      const column = rng.int(0, 5);
      const bad = column < 5 ? rng.pick(BAD_BYTES) : null;
      const cells: (string | number[])[][] = [[external_id], ['单选题'], [`科目${i % 3}`], ['fuzz'], ['"第', String(i), '题，\n跨行的"" 题干"']];
      if (bad) cells[column]!.splice(1, 0, bad);
      cells.forEach((cell, c) => parts.push(...cell, c < 4 ? ',' : '\n'));
      rows.push({ line: [], good: bad === null, external_id });
    }
    await importTwice('text/csv', concat(parts), rows, (k) => k);
  });

  it('stores every accepted id and group name exactly as sent', async () => {
    const items = await stored();
    expect(items.length).toBeGreaterThan(300);
    for (const item of items) {
      for (const value of [item.external_id, item.type_name, item.subject_name, item.channel_code, item.content]) {
        expect({ value, ok: (value as string & { isWellFormed(): boolean }).isWellFormed() && !value.includes('\ufffd') && !value.includes('\u0000') }).toEqual({ value, ok: true });
      }
      expect(GOOD_IDS.some((prefix) => item.external_id.startsWith(`${prefix}-`))).toBe(true);
    }
    // The case: a lone surrogate in external_id, sent twice with a good row each time.
    const body = `[{"external_id":"\\udc00","type_name":"单选题","subject_name":"数学","channel_code":"fuzz","content":"孤立代理"},{"external_id":"good-after-surrogate","type_name":"单选题","subject_name":"数学","channel_code":"fuzz","content":"好的行"}]`;
    for (const round of [0, 1]) {
      const answer = await service.api('POST', '/api/questions', body);
      expect(answer.status).toBe(201);
      expect(answer.body.data).toMatchObject({ [round === 0 ? 'inserted' : 'unchanged']: 1, rejected: [{ index: 0, message: expect.stringContaining('external_id') }] });
    }
  });

  it('a JSON body that is not UTF-8 is a 400, never a 500', async () => {
    const body = concat(['[{"type_name":"单选题","subject_name":"数学","content":"', [0xed, 0xa0, 0x80], '"}]']);
    const response = await fetch(`${service.url}/api/questions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body as unknown as BodyInit });
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).message).toContain('UTF-8');
  });

  it('refuses invalid text in every query parameter and the other routes\' bodies with a 4xx', async () => {
    const task = (await service.api('POST', '/api/dedup/tasks', { task_name: 'unicode fuzz' })).body.data.id;
    const badQueries = ['%00', 'a%00b', '%ED%A0%80', '%C0%AF', '%FF', '%F4%90%80%80'];
    const statuses = new Map<number, number>();
    for (const bad of badQueries) {
      for (const path of [
        `/api/questions?q=${bad}`,
        `/api/questions?type_name=${bad}`,
        `/api/questions?subject_name=x${bad}&channel_code=${bad}`,
        `/api/groups?q=abc${bad}`,
        `/api/groups?type_name=${bad}`,
        `/api/dedup/tasks/${task}/clusters?channel_code=${bad}`,
        `/api/dedup/tasks/${task}/export?format=${bad}`,
        `/api/dedup/tasks?status=${bad}`,
      ]) {
        const response = await fetch(service.url + path);
        const body = (await response.json()) as any;
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        // A byte sequence that does not decode is kept as the literal text (no match: 200); NUL is refused (400).
        expect({ path, status: response.status, code: body.code }).toEqual({ path, status: [200, 400].includes(response.status) ? response.status : -1, code: response.status });
        if (bad.includes('%00') && !path.includes('export') && !path.includes('status=')) expect({ path, status: response.status }).toEqual({ path, status: 400 });
      }
    }
    const escapes = BAD_ESCAPES.map((escape) => JSON.parse(`"${escape}"`) as string);
    for (const bad of escapes) {
      const bodies: [string, unknown][] = [
        ['/api/dedup/tasks', { task_name: `名${bad}` }],
        ['/api/dedup/tasks', { task_name: 'ok', filters: { type_names: [bad] } }],
        ['/api/dedup/tasks', { task_name: 'ok', filters: { subject_names: ['数学', bad] } }],
        ['/api/dedup/tasks', { task_name: 'ok', filters: { channel_codes: [`c${bad}`] } }],
        ['/api/dedup/check', { type_name: '单选题', subject_name: '数学', content: `题${bad}` }],
        ['/api/dedup/check', { type_name: `单选题${bad}`, subject_name: '数学', content: '题' }],
        ['/api/dedup/check', { type_name: '单选题', subject_name: '数学', channel_code: bad, content: '题' }],
        ['/api/dedup/check', { type_name: '单选题', subject_name: '数学', content: '题', options: [bad] }],
      ];
      for (const [path, body] of bodies) {
        const response = await service.api('POST', path, body);
        expect({ path, body: JSON.stringify(body), status: response.status }).toEqual({ path, body: JSON.stringify(body), status: 422 });
        expect(response.body.errors?.[0]?.message).toContain('Unicode text');
      }
    }
    expect(statuses.get(500) ?? 0).toBe(0);
    expect((await service.api('GET', '/api/health')).status).toBe(200);
  });
});
