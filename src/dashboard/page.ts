import { BASE_CSS } from './base-style.ts';

/** The dashboard's HTML and CSS; the behaviour is in ./client, bundled on first request. */
export const DASHBOARD_HTML = /* html */ `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Question dedup</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style>
${BASE_CSS}
  .task[data-status=completed] .fill { background: var(--ok); }
  .task[data-status=failed] .fill, .task[data-status=cancelled] .fill { background: var(--bad); }
  #tasks { display: grid; gap: .75rem; grid-template-columns: minmax(0, 1fr); }
  main > *, .task { min-width: 0; } /* let wide tables scroll inside their card instead of widening the page */
  .task { border: 1px solid var(--line); border-radius: .5rem; padding: .75rem; }
  .task header { display: flex; justify-content: space-between; gap: .5rem; }
  .task .status { font-size: .85rem; color: var(--muted); }
  .meta { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .75rem; margin: 0; font-size: .9rem; }
  .meta dt { color: var(--muted); }
  .meta dd { margin: 0; overflow-wrap: anywhere; }
  .message { margin: .4rem 0; color: var(--muted); font-size: .9rem; min-height: 1.2em; }
  .error { color: var(--bad) !important; }
  .actions { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; }
  .actions a { color: var(--accent); }
  .task-groups { margin-top: .4rem; font-size: .85rem; }
  .groups-table { overflow-x: auto; }
  .groups-table table { border-collapse: collapse; width: 100%; }
  .groups-table td, .groups-table th { border-bottom: 1px solid var(--line); padding: .2rem .4rem; text-align: left; white-space: nowrap; }
  .cluster { border-top: 1px solid var(--line); padding: .75rem 0; }
  .cluster > header { font-size: .9rem; color: var(--muted); margin-bottom: .5rem; }
  .members { display: grid; grid-template-columns: repeat(auto-fit, minmax(15rem, 1fr)); gap: .5rem; }
  .member { border: 1px solid var(--line); border-radius: .4rem; padding: .5rem; }
  .member.canonical { border-color: var(--accent); }
  .member h4 { margin: 0 0 .3rem; font-size: .9rem; }
  .member small { color: var(--muted); font-weight: normal; }
  .member .content { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
  mark { background: #ffe08a; border-radius: .15rem; }
  #search { margin: .6rem 0; }
  .bank-results ul { list-style: none; padding: 0; margin: 0; display: grid; gap: .4rem; }
  .bank-results li { border: 1px solid var(--line); border-radius: .4rem; padding: .4rem .6rem; }
  .bank-results small { color: var(--muted); }
  .bank-results .content { margin: .2rem 0 0; white-space: pre-wrap; overflow-wrap: anywhere; }
  .pager { display: flex; gap: .5rem; margin-top: .5rem; }
  #notice:empty { display: none; }
  #tasks:has(.task) .empty { display: none; }
  @media (max-width: 30rem) { main { padding: .5rem; } .panel { padding: .75rem; } form > * { flex: 1 1 100%; } }
</style>
</head>
<body>
<header class="top">
  <h1>Question dedup</h1>
  <nav><a href="/api/docs">API docs</a><a href="/metrics">Metrics</a></nav>
  <span id="connection" data-state="connecting" role="status">connecting</span>
</header>
<main>
  <p id="notice" class="panel" role="alert"></p>
  <section class="panel">
    <h2>Import questions</h2>
    <form id="import">
      <label>NDJSON, JSON or CSV file<input id="import-file" name="file" type="file" accept=".ndjson,.jsonl,.json,.csv,text/csv,application/json"></label>
      <button type="submit">Upload</button>
    </form>
    <div id="import-bar" class="bar" role="progressbar" aria-label="upload progress" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0"><div class="fill"></div></div>
    <p id="import-result" class="message" role="status"></p>
  </section>
  <section id="bank" class="panel">
    <h2>Question bank <span class="bank-summary message"></span></h2>
    <details><summary>Groups</summary><div class="bank-groups groups-table"></div></details>
    <form id="search" role="search"><label>Search question texts<input name="q" type="search" maxlength="200" placeholder="e.g. 电功率"></label><button type="submit">Search</button></form>
    <div class="bank-results"></div>
  </section>
  <section class="panel">
    <h2>New dedup task</h2>
    <form id="create">
      <label>Name<input name="task_name" required maxlength="200" value="Dedup run"></label>
      <label>Scope<select name="scope"><option value="channel">within a channel</option><option value="subject">across channels</option></select></label>
      <label>Max distance<input name="max_distance" type="number" min="0" max="16" value="3"></label>
      <label>Min similarity<input name="min_similarity" type="number" min="0" max="1" step="0.05" value="0.8"></label>
      <label><span><input name="start_now" type="checkbox" checked> start now</span></label>
      <button type="submit">Create</button>
    </form>
  </section>
  <section class="panel">
    <h2>Tasks <button id="refresh" type="button" class="secondary">Refresh</button></h2>
    <div id="tasks"><p class="empty message">No tasks yet: import a question file, then create a task above.</p></div>
  </section>
  <section id="clusters" class="panel" hidden>
    <h2 class="title">Clusters</h2>
    <div class="list"></div>
    <div class="pager"><button type="button" class="secondary" data-page="prev">Previous</button><button type="button" class="secondary" data-page="next">Next</button></div>
  </section>
  <details class="panel"><summary>Access token</summary>
    <label>Only needed when the service runs with AUTH_TOKENS<input id="token" type="password" autocomplete="off"></label>
  </details>
</main>
<script type="module" src="/dashboard.js"></script>
</body>
</html>
`;
