/**
 * The bench's import client, run as its own process (`bun test/bench/upload.ts URL FILE`) so
 * none of its work lands on the service's event loop: streams an NDJSON file to
 * `POST URL/api/questions` and prints `{ status, ms, data }` as one JSON line.
 */
const [url, file] = process.argv.slice(2);
if (!url || !file) throw new Error('usage: bun test/bench/upload.ts URL FILE');
const t0 = performance.now();
const response = await fetch(`${url}/api/questions`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: Bun.file(file) });
const payload = (await response.json()) as { data: unknown };
console.log(JSON.stringify({ status: response.status, ms: performance.now() - t0, data: payload.data }));
export {};
