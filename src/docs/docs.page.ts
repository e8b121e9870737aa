import type { buildOpenApi } from './openapi.ts';

type Doc = ReturnType<typeof buildOpenApi>;

const escape = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const code = (value: unknown) => `<pre>${escape(JSON.stringify(value, null, 2))}</pre>`;
const inline = (text: string) => escape(text).replace(/`([^`]+)`/g, '<code>$1</code>');

interface OperationDoc {
  summary: string;
  parameters: { name: string; in: string; required: boolean; schema: unknown }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { description?: string }>;
}

function operationHtml(method: string, path: string, op: OperationDoc): string {
  const params = op.parameters.length
    ? `<table><tr><th>parameter</th><th>in</th><th>required</th><th>schema</th></tr>${op.parameters
        .map((p) => `<tr><td><code>${escape(p.name)}</code></td><td>${p.in}</td><td>${p.required ? 'yes' : ''}</td><td><code>${escape(JSON.stringify(p.schema))}</code></td></tr>`)
        .join('')}</table>`
    : '';
  const body = op.requestBody
    ? Object.entries(op.requestBody.content)
        .map(([type, { schema }]) => `<details><summary>body: <code>${type}</code></summary>${code(schema)}</details>`)
        .join('')
    : '';
  const responses = Object.entries(op.responses)
    .map(([status, r]) => `<code>${status}</code> ${inline(r.description ?? '')}`)
    .join(' · ');
  return `<section class="op" id="${method}-${escape(path)}"><h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${escape(path)}</code></h3>
<p>${inline(op.summary)}</p>${params}${body}<p class="responses">${responses}</p></section>`;
}

/** A readable page made from the same document `/api/openapi.json` serves. */
export function docsPage(doc: Doc): string {
  const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => operationHtml(method, path, op as OperationDoc)),
  );
  const schemas = Object.entries(doc.components.schemas)
    .map(([name, schema]) => `<details id="schema-${name}"><summary><code>${name}</code></summary>${code(schema)}</details>`)
    .join('');
  const events = doc['x-socketio'].events
    .map((e) => `<tr><td><code>${e.name}</code></td><td>${e.direction}</td><td>${escape(e.to)}</td><td>${inline(e.description)}<details><summary>payload</summary>${code(e.payload)}</details></td></tr>`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>API docs · question dedup</title>
<style>
body{margin:0 auto;max-width:60rem;padding:1rem;font:15px/1.5 system-ui,sans-serif;color:#1d2330}
pre{background:#f4f5f7;padding:.5rem;overflow:auto;font-size:.8rem}code{font-size:.9em}
table{border-collapse:collapse;width:100%;font-size:.85rem;display:block;overflow-x:auto}td,th{border:1px solid #d9dee5;padding:.25rem .4rem;text-align:left;vertical-align:top}
.op{border-top:1px solid #d9dee5;padding:.5rem 0}.op h3{margin:.2rem 0;font-size:1rem;overflow-wrap:anywhere}
.m{display:inline-block;min-width:4rem;font-size:.8rem;color:#fff;border-radius:.2rem;padding:0 .3rem;text-align:center}.get{background:#2f6fed}.post{background:#1f8a4c}.delete{background:#c0392b}
.responses{font-size:.85rem;color:#5f6b7a}
</style></head><body>
<h1>${escape(doc.info.title)} <small>${escape(doc.info.version)}</small></h1>
<p>${inline(doc.info.description)}</p>
<p>Machine-readable: <a href="/api/openapi.json"><code>/api/openapi.json</code></a> (OpenAPI ${doc.openapi}). Dashboard: <a href="/">/</a>.</p>
<h2>REST</h2>${operations.join('\n')}
<h2 id="socketio">Socket.IO events</h2>
<p>Connect to the service's own address (path <code>/socket.io/</code>, WebSocket or long-polling); ${escape(doc['x-socketio'].auth)}.
TypeScript types for frontends: <code>import type { ServerToClientEvents, ClientToServerEvents, TaskProgressPayload } from '…/src/realtime/events.ts'</code>,
then <code>io(url) as Socket&lt;ServerToClientEvents, ClientToServerEvents&gt;</code>.</p>
<table><tr><th>event</th><th>direction</th><th>to</th><th>meaning</th></tr>${events}</table>
<h2>Schemas</h2>${schemas}
</body></html>`;
}
