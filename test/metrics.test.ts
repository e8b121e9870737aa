import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import pino from 'pino';
import { Writable } from 'node:stream';
import { generateSampleBank } from '../src/sample/generate.ts';
import { importQuestions, nextEvent, startTestService, type TestService } from './support/service.ts';

// Real servers, pools and browsers: bun's 5 s default is too short on a loaded CI machine (bunfig's [test] timeout is not read).
setDefaultTimeout(60_000);

/** The value of one sample line, e.g. `dedup_tasks{status="completed"}`. */
function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no sample ${name} in:\n${text}`);
  return Number(line.slice(name.length + 1));
}

describe('/metrics and request logs', () => {
  let service: TestService;
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line));
        done();
      },
    });
    service = await startTestService({}, { logger: pino({ level: 'info' }, sink) });
  });
  afterAll(() => service.stop());

  it('counts tasks by status, processed groups and questions, sockets and pool state', async () => {
    const bank = generateSampleBank({ count: 120, seed: 11 });
    await importQuestions(service, bank as Record<string, unknown>[]);
    const client = await service.connect();
    const created = await service.api('POST', '/api/dedup/tasks', { task_name: 'metrics' });
    const id = created.body.data.id as number;
    client.emit('join_task', { task_id: id });
    await nextEvent(client, 'task_status');
    const done = nextEvent(client, 'task_completed', 30_000);
    await service.api('POST', `/api/dedup/tasks/${id}/start`);
    const { data: task } = await done;
    await service.api('POST', '/api/dedup/tasks', { task_name: 'left pending' });

    const response = await fetch(`${service.url}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(metric(text, 'dedup_tasks{status="completed"}')).toBe(1);
    expect(metric(text, 'dedup_tasks{status="pending"}')).toBe(1);
    expect(metric(text, 'dedup_tasks{status="running"}')).toBe(0);
    expect(metric(text, 'dedup_groups_processed_total')).toBe(task.total_groups);
    expect(metric(text, 'dedup_questions_processed_total')).toBe(120);
    expect(metric(text, 'dedup_questions_per_second')).toBeCloseTo(120 / 60, 5);
    expect(metric(text, 'socketio_connected_sockets')).toBe(1);
    expect(metric(text, 'dedup_pool_queue_depth')).toBe(0);
    expect(metric(text, 'dedup_pool_utilization')).toBeGreaterThanOrEqual(0);
    expect(metric(text, 'dedup_pool_threads')).toBeGreaterThanOrEqual(1);
    expect(metric(text, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(metric(text, 'http_requests_total{method="POST",status="201"}')).toBe(3);
    expect(text).toContain('# TYPE dedup_groups_processed_total counter');
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    const requests = metric(text, 'http_request_duration_seconds_count');
    expect(metric(text, 'http_request_duration_seconds_bucket{le="+Inf"}')).toBe(requests);
    expect(metric(text, 'http_request_duration_seconds_bucket{le="10"}')).toBeLessThanOrEqual(requests);
    expect(metric(text, 'http_request_duration_seconds_bucket{le="0.005"}')).toBeLessThanOrEqual(metric(text, 'http_request_duration_seconds_bucket{le="10"}'));
  });

  it('logs one JSON line per request with the request id it echoes back', async () => {
    const mine = await fetch(`${service.url}/api/dedup/tasks/999999`, { headers: { 'X-Request-Id': 'trace-abc.1' } });
    expect(mine.status).toBe(404);
    expect(mine.headers.get('x-request-id')).toBe('trace-abc.1');
    const fresh = await fetch(`${service.url}/api/groups`);
    const freshId = fresh.headers.get('x-request-id')!;
    expect(freshId).toMatch(/^[0-9a-f-]{36}$/);
    const hostile = await fetch(`${service.url}/api/groups`, { headers: { 'X-Request-Id': 'bad id\twith spaces' } });
    expect(hostile.headers.get('x-request-id')).not.toContain(' ');

    // Cross-origin frontends may send their own id and read the answer's.
    const preflight = await fetch(`${service.url}/api/groups`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://app.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-request-id' },
    });
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-request-id');
    const cross = await fetch(`${service.url}/api/groups`, { headers: { Origin: 'http://app.example' } });
    expect(cross.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('x-request-id');

    const logged = lines.find((l) => l.reqId === 'trace-abc.1');
    expect(logged).toMatchObject({ msg: 'request', method: 'GET', path: '/api/dedup/tasks/999999', status: 404 });
    expect(typeof logged!.ms).toBe('number');
    expect(lines.some((l) => l.reqId === freshId && l.status === 200)).toBe(true);
  });
});
