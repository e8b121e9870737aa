import { afterAll, beforeAll, expect, it } from 'bun:test';
import { api, duplicateBank, getTask, importQuestions, readDb, spawnService, tempDir, waitFor, type ChildService } from '../support/child-service.ts';
import { anyValue, deepArray, deepObject, junk, prng, type Rng } from '../support/fuzz.ts';

/**
 * 1,200+ malformed REST requests from a seeded generator against a real service process:
 * every answer is the contract's envelope with the expected 4xx status (never a 500), the
 * process stays up, and the database is byte-for-byte what it was before.
 */
const MAX_BODY_MB = 1;
const temp = tempDir();
let service: ChildService;
let completedTask: number;
let pendingTask: number;

beforeAll(async () => {
  service = await spawnService({ worker: 'chaos-worker.ts', dbFile: `${temp.dir}/fuzz-rest.sqlite`, env: { MAX_BODY_MB: String(MAX_BODY_MB) } });
  await importQuestions(service.url, duplicateBank(4, 4));
  completedTask = (await api(service.url, 'POST', '/api/dedup/tasks', { task_name: 'done' })).body.data.id;
  await api(service.url, 'POST', `/api/dedup/tasks/${completedTask}/start`);
  await waitFor(async () => (await getTask(service.url, completedTask)).status === 'completed');
  pendingTask = (await api(service.url, 'POST', '/api/dedup/tasks', { task_name: 'pending' })).body.data.id;
});

afterAll(async () => {
  service?.kill('SIGKILL');
  await service?.exited;
  temp.remove();
});

/** Every row of every table, so any write at all shows up. */
function snapshot(file: string): string {
  return readDb(file, (db) => {
    // Question prints and their backlog with its mark, and the search index with its own, are caches the service
    // fills in the background after an import, so they are left out: what a request may not change is the data itself.
    const tables = db
      .query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('question_prints', 'question_backlog', 'question_print_queue', 'question_search_state') AND name NOT LIKE 'questions_fts%' ORDER BY name")
      .all() as { name: string }[];
    const rows = tables.map(({ name }) => [name, db.query(`SELECT * FROM "${name}" ORDER BY rowid`).all()]);
    return JSON.stringify(rows);
  });
}

interface Probe {
  kind: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | ReadableStream<Uint8Array>;
  /** The statuses this request may get; all are failures except where a bad-rows import says 201. */
  expect: number[];
  /** For 201 imports of bad rows: how many rows must come back rejected. */
  rejectedRows?: number;
}

const JSON_CT = { 'content-type': 'application/json' };
const WRITE_ENDPOINTS = ['/api/questions', '/api/dedup/tasks'];

const validTask = () => ({ task_name: 'fuzz', filters: { type_names: ['单选题'] }, scope: 'channel', max_distance: 3, min_similarity: 0.8 });
const validRow = () => ({ type_name: '单选题', subject_name: '数学', channel_code: 'default', content: 'what is 2+2', options: ['3', '4'], answer: 'B', external_id: 'fuzz-1' });

const BAD_TASK_FIELDS: Record<string, unknown[]> = {
  task_name: [null, 123, [], {}, '', '   ', 'x'.repeat(201), true, undefined],
  max_distance: [-1, 17, 3.5, '3', null, true, [], 1e6],
  min_similarity: [-0.1, 1.5, '0.5', null, {}, 'NaN'],
  scope: ['', 'global', 1, null, 'CHANNEL'],
  filters: ['x', 1, [], null, { type_names: 'x' }, { type_names: [] }, { subject_names: [1] }, { channel_codes: [''] }, { type_names: Array.from({ length: 1001 }, (_, i) => `t${i}`) }],
};

const BAD_ROW_FIELDS: Record<string, unknown[]> = {
  content: [undefined, '', '   ', 123, null, [], {}, 'x'.repeat(200_001)],
  type_name: [undefined, '', 5, 'x'.repeat(101), null, ['单选题']],
  subject_name: [undefined, '  ', 7, {}, 'y'.repeat(150)],
  channel_code: ['', 5, null, []],
  options: ['abc', 5, Array.from({ length: 53 }, () => 'a'), { '': 'x' }, [1, 2]],
  answer: [{}, { a: 1 }, true],
  external_id: [-1, 1.5, '', {}, true],
};

function breakOne(rng: Rng, base: Record<string, unknown>, table: Record<string, unknown[]>) {
  const value: Record<string, unknown> = { ...base };
  // Valid fields may carry junk; the one broken field makes the whole thing invalid.
  for (const key of Object.keys(value)) if (typeof value[key] === 'string' && rng.next() < 0.3 && key !== 'scope') value[key] = `${value[key]}${junk(rng, 2)}`.slice(0, 90);
  const field = rng.pick(Object.keys(table));
  const bad = rng.pick(table[field]!);
  if (bad === undefined) delete value[field];
  else value[field] = bad;
  return value;
}

function badIdSegment(rng: Rng): { segment: string; valid: boolean } {
  const candidates = [
    '-1', '0', '-0', '1.5', '1e3', '0x1f', 'abc', '99999999999999999999', '9007199254740993', '%201', '1%3BDROP%20TABLE%20questions', '%D9%A3',
    '%ED%A0%80', '%ZZ', '%', 'null', 'undefined', 'Infinity', '-9007199254740991', '00001', '1_000', '１',
  ];
  if (rng.next() < 0.25) return { segment: String(rng.pick([999_999, 123_456_789, 9_007_199_254_740_991, 4_294_967_296])), valid: true };
  if (rng.next() < 0.15) {
    try {
      return { segment: encodeURIComponent(junk(rng, 3)), valid: false };
    } catch {
      return { segment: '%ED%B0%80', valid: false };
    }
  }
  return { segment: rng.pick(candidates), valid: false };
}

function streamOf(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  return new ReadableStream({
    start(controller) {
      for (let start = 0; start < bytes.length; start += 64 * 1024) controller.enqueue(bytes.slice(start, start + 64 * 1024));
      controller.close();
    },
  });
}

function makeProbe(rng: Rng, index: number): Probe {
  const bodyLimit = MAX_BODY_MB * 1024 * 1024;
  const sized = (text: string, otherwise: number[]) => (Buffer.byteLength(text) > bodyLimit ? [413] : otherwise);
  switch (index % 11) {
    case 0: {
      // Broken JSON: every proper prefix of an object or array, quotes and literals JSON does not allow.
      const whole = JSON.stringify(rng.next() < 0.5 ? validTask() : [validRow(), validRow()]);
      const broken = rng.pick([
        whole.slice(0, rng.int(1, whole.length - 1)),
        `${whole}}`,
        `${whole},`,
        "{'task_name': 'x'}",
        '{task_name: 1}',
        '[1,]',
        'NaN',
        'undefined',
        '',
        `${junk(rng)}${whole}`,
        `{"task_name": "${'\\u'}zzzz"}`,
        '\u0000{}',
      ]);
      return { kind: 'broken JSON', method: 'POST', path: rng.pick(WRITE_ENDPOINTS), headers: JSON_CT, body: broken, expect: [400] };
    }
    case 1: {
      const body = JSON.stringify(breakOne(rng, validTask(), BAD_TASK_FIELDS));
      return { kind: 'task of wrong types', method: 'POST', path: '/api/dedup/tasks', headers: JSON_CT, body, expect: sized(body, [422]) };
    }
    case 2: {
      const veryDeep = [`${'['.repeat(100_000)}${']'.repeat(100_000)}`, `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`];
      const body =
        rng.next() < 0.1
          ? rng.pick(veryDeep)
          : JSON.stringify(rng.pick([null, 5, 'task', [], [validTask()], true, deepObject(rng.int(50, 400)), deepArray(rng.int(50, 2000)), { task_name: anyValue(rng), max_distance: -5 }]));
      return { kind: 'task body not an object', method: 'POST', path: '/api/dedup/tasks', headers: JSON_CT, body, expect: sized(body, [422]) };
    }
    case 3: {
      // An import whose every row is bad: 201, nothing stored, every row reported.
      const rows = Array.from({ length: rng.int(1, 6) }, () => breakOne(rng, validRow(), BAD_ROW_FIELDS));
      const body = JSON.stringify(rng.next() < 0.5 ? rows : { questions: rows });
      return { kind: 'import of bad rows', method: 'POST', path: '/api/questions', headers: JSON_CT, body, expect: sized(body, [201]), rejectedRows: rows.length };
    }
    case 4: {
      const body = JSON.stringify(rng.pick([{}, { questions: 'x' }, 5, 'rows', null, { questions: {} }, { rows: [validRow()] }, true, deepObject(100)]));
      return { kind: 'import body of the wrong shape', method: 'POST', path: '/api/questions', headers: JSON_CT, body, expect: [422] };
    }
    case 5: {
      const lines = Array.from({ length: rng.int(1, 8) }, () =>
        rng.pick([junk(rng), '{', '[]', 'null', '"row"', JSON.stringify(breakOne(rng, validRow(), BAD_ROW_FIELDS))]).replace(/[\r\n\u0085]/g, ' '),
      ).filter((line) => line.trim() !== '');
      if (lines.length === 0) lines.push('{');
      return { kind: 'NDJSON of bad lines', method: 'POST', path: '/api/questions', headers: { 'content-type': 'application/x-ndjson' }, body: lines.join('\n'), expect: [201], rejectedRows: lines.length };
    }
    case 6: {
      const { segment, valid } = badIdSegment(rng);
      const route = rng.pick([
        ['GET', `/api/questions/${segment}`],
        ['DELETE', `/api/questions/${segment}`],
        ['GET', `/api/dedup/tasks/${segment}`],
        ['DELETE', `/api/dedup/tasks/${segment}`],
        ['POST', `/api/dedup/tasks/${segment}/start`],
        ['POST', `/api/dedup/tasks/${segment}/cancel`],
        ['GET', `/api/dedup/tasks/${segment}/groups`],
        ['GET', `/api/dedup/tasks/${segment}/clusters`],
        ['GET', `/api/dedup/tasks/${segment}/export`],
      ] as const);
      return { kind: 'bad or unknown id', method: route[0], path: route[1], expect: valid ? [404] : [400, 404] };
    }
    case 7: {
      const value = (() => {
        try {
          return encodeURIComponent(rng.pick([junk(rng), 'x'.repeat(rng.int(201, 5000)), '-1', '0', '1e400', 'abc', '']));
        } catch {
          return '%ED%A0%80';
        }
      })();
      const route = rng.pick([
        `/api/questions?page=${value}`,
        `/api/questions?page_size=${rng.pick(['0', '501', '-3', value])}`,
        `/api/questions?q=${value}&type_name=${value}`,
        `/api/groups?subject_name=${value}`,
        `/api/dedup/tasks?status=${rng.pick(['bogus', 'RUNNING', value])}`,
        `/api/dedup/tasks/${completedTask}/clusters?page=${value}&page_size=${rng.pick(['-5', '0', '1000'])}`,
        `/api/dedup/tasks/${completedTask}/export?format=${rng.pick(['xml', 'CSV', 'json', value])}`,
        `/api/questions?page=1&page=${value}&%ZZ=1`,
      ]);
      // Junk that is still a valid filter value finds nothing; the rest is a 400.
      return { kind: 'junk query', method: 'GET', path: route, expect: [200, 400] };
    }
    case 8: {
      const type = rng.pick(['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/json-patch+json', 'text/json', 'application/jsonx', 'image/png', junk(rng, 2).replace(/[^\x21-\x7e]/g, 'q') || 'q/q']);
      const path = rng.pick(WRITE_ENDPOINTS);
      const body = JSON.stringify(path === '/api/questions' ? [validRow()] : validTask());
      return { kind: 'wrong content type', method: 'POST', path, headers: { 'content-type': type }, body, expect: [415] };
    }
    case 9: {
      const route = rng.pick([
        ['PUT', '/api/questions/1'],
        ['PATCH', `/api/dedup/tasks/${completedTask}`],
        ['GET', `/api/dedup/tasks/${completedTask}/start`],
        ['POST', `/api/${encodeURIComponent(junk(rng, 2).replace(/[\ud800-\udfff]/g, 'x'))}`],
        ['GET', '/api/dedup/tasks/1/2/3'],
        ['POST', `/api/dedup/tasks/${completedTask}/cancel`],
        ['POST', `/api/dedup/tasks/${pendingTask}/cancel`],
        ['DELETE', '/api/groups'],
      ] as const);
      return { kind: 'wrong method, path or state', method: route[0], path: route[1], headers: JSON_CT, body: rng.next() < 0.5 && route[0] !== 'GET' ? '{}' : undefined, expect: [404, 405, 409] };
    }
    default: {
      // Past MAX_BODY_MB: told by Content-Length, or streamed without one.
      const size = bodyLimit + rng.int(1, bodyLimit);
      const path = rng.pick(WRITE_ENDPOINTS);
      const text = path === '/api/questions' ? JSON.stringify([{ ...validRow(), content: 'x'.repeat(size) }]) : JSON.stringify({ ...validTask(), task_name: 'y'.repeat(size) });
      return { kind: 'body past MAX_BODY_MB', method: 'POST', path, headers: JSON_CT, body: rng.next() < 0.5 ? text : streamOf(text), expect: [413] };
    }
  }
}

it('answers 1,200 malformed requests with the envelope and a 4xx, never a 500, and changes nothing', async () => {
  const before = snapshot(service.dbFile);
  const pid = service.proc.pid;
  const rng = prng(20261124);
  const COUNT = 1210;
  const failures: string[] = [];
  const byKind = new Map<string, number>();
  const statuses = new Map<number, number>();

  const send = async (index: number) => {
    const probe = makeProbe(rng, index);
    byKind.set(probe.kind, (byKind.get(probe.kind) ?? 0) + 1);
    let response: Response;
    try {
      response = await fetch(service.url + probe.path, { method: probe.method, headers: probe.headers, body: probe.body as RequestInit["body"] });
    } catch (error) {
      failures.push(`#${index} ${probe.kind}: ${probe.method} ${probe.path.slice(0, 80)} → ${(error as Error).message} ${probe.body instanceof ReadableStream ? 'stream' : typeof probe.body}`);
      return;
    }
    const text = await response.text();
    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    const where = `#${index} ${probe.kind}: ${probe.method} ${probe.path.slice(0, 80)} → ${response.status} ${text.slice(0, 160)}`;
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      failures.push(`${where} (not JSON)`);
      return;
    }
    if (!probe.expect.includes(response.status)) failures.push(`${where} (expected ${probe.expect.join('/')})`);
    if (response.status >= 500) failures.push(`${where} (server error)`);
    if (!(response.headers.get('content-type') ?? '').startsWith('application/json')) failures.push(`${where} (content-type)`);
    if (typeof body !== 'object' || body === null || body.code !== response.status || typeof body.message !== 'string' || !('data' in body)) {
      failures.push(`${where} (not the envelope)`);
      return;
    }
    if (response.status >= 400 && body.data !== null) failures.push(`${where} (error with data)`);
    if (/\n\s+at |node_modules|\.ts:\d+/.test(text)) failures.push(`${where} (stack trace)`);
    if (response.status === 201 && probe.rejectedRows !== undefined) {
      const { inserted, updated, unchanged, rejected_count } = body.data;
      if (inserted + updated + unchanged !== 0 || rejected_count !== probe.rejectedRows) failures.push(`${where} (rows not all rejected)`);
    }
  };

  // A few at a time, as a busy client would; generated in order so the run is reproducible.
  const CONCURRENCY = 16;
  for (let start = 0; start < COUNT; start += CONCURRENCY) {
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, COUNT - start) }, (_, offset) => send(start + offset)));
  }

  expect(failures).toEqual([]);
  expect([...byKind.values()].reduce((a, b) => a + b, 0)).toBe(COUNT);
  expect(statuses.get(413) ?? 0).toBeGreaterThanOrEqual(100);
  expect(statuses.get(415) ?? 0).toBeGreaterThanOrEqual(100);
  expect(statuses.get(500) ?? 0).toBe(0);
  expect(snapshot(service.dbFile)).toBe(before);
  expect((await api(service.url, 'GET', '/api/health')).status).toBe(200);
  expect(service.proc.pid).toBe(pid);
  expect(service.proc.exitCode).toBeNull();
  expect(service.logs.filter((line) => line.msg === 'unhandled error')).toEqual([]);
}, 60_000);
