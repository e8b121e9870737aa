import { BASE_CSS } from './base-style.ts';

/** The review screen's HTML and CSS; the behaviour is in ./client/review-main.ts, KaTeX's CSS and fonts under /katex/. */
export const REVIEW_HTML = /* html */ `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Review · Question dedup</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/katex/katex.min.css">
<style>
${BASE_CSS}
  [hidden] { display: none !important; }
  header.top h1 a { color: inherit; text-decoration: none; }
  header.top .bar { flex: 1 1 100%; height: .45rem; margin: 0; }
  header.top .bar .fill { background: var(--ok); }
  main > * { min-width: 0; }
  .message { margin: .4rem 0; color: var(--muted); font-size: .9rem; }
  .error { color: var(--bad) !important; }
  #notice:empty { display: none; }
  #notice { margin: 0; }
  .actions { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; }
  button.danger { background: var(--bad); border-color: var(--bad); }
  kbd { font: .75rem ui-monospace, monospace; margin-left: .4rem; padding: 0 .3rem; border-radius: .2rem; background: rgba(255,255,255,.25); border: 1px solid currentColor; opacity: .8; }
  .keys kbd { background: #eef1f5; color: var(--fg); margin: 0 .15rem; }
  .cluster { border: 1px solid var(--line); border-left: .3rem solid var(--line); border-radius: .5rem; padding: .6rem .75rem; margin: 0 0 .75rem; }
  .cluster[data-state=confirmed] { border-left-color: var(--ok); }
  .cluster[data-state=dismissed] { border-left-color: var(--bad); }
  .cluster[data-state=partial] { border-left-color: #d68910; }
  .cluster:focus-within { box-shadow: 0 0 0 2px #c9d8fb; }
  .cluster > header { display: flex; flex-wrap: wrap; gap: .2rem .75rem; align-items: baseline; font-size: .9rem; color: var(--muted); margin-bottom: .5rem; }
  .cluster > header strong { color: var(--fg); }
  .review-state { margin-left: auto; padding: .05rem .5rem; border-radius: 1rem; background: #eef1f5; }
  .review-state[data-state=confirmed] { background: #dff3e6; color: var(--ok); }
  .review-state[data-state=dismissed] { background: #fbe3e0; color: var(--bad); }
  .review-state[data-state=partial] { background: #fdf0d5; color: #9a6206; }
  .members { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 20rem), 1fr)); gap: .5rem; }
  .member { border: 1px solid var(--line); border-radius: .4rem; padding: .5rem; min-width: 0; outline: none; }
  .member.canonical { border-color: var(--accent); background: #f7f9ff; }
  .member:focus { box-shadow: 0 0 0 3px var(--accent); }
  .member h4 { display: flex; flex-wrap: wrap; gap: .1rem .6rem; align-items: baseline; margin: 0 0 .3rem; font-size: .9rem; }
  .member h4 .facts, .member h4 small { color: var(--muted); font-weight: normal; }
  .member.canonical h4 .facts { color: var(--accent); font-weight: 600; }
  .reason { display: inline-block; font-size: .8rem; padding: .05rem .45rem; border-radius: .3rem; background: #eef1f5; color: var(--muted); margin-bottom: .3rem; }
  .reason[data-stage=exact] { background: #dff3e6; color: var(--ok); }
  .reason[data-stage=reviewed] { background: #e8e1fb; color: #5b3cc4; }
  .resolved { margin: 0 0 .3rem; font-size: .85rem; color: #9a6206; }
  .content { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; overflow-x: auto; }
  .content .math.display { display: block; overflow-x: auto; overflow-y: hidden; }
  mark { background: #ffe08a; border-radius: .15rem; }
  .member-actions { display: flex; flex-wrap: wrap; gap: .4rem; margin-top: .5rem; }
  .cluster > footer { margin-top: .6rem; }
  .pager { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
  #filters input[type=number] { width: 7rem; }
  .controls { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: end; }
  dialog { border: 1px solid var(--line); border-radius: .5rem; max-width: min(30rem, 92vw); }
  dialog::backdrop { background: rgba(20, 25, 35, .35); }
  .tasks-list { margin: 0; padding-left: 1.2rem; }
  #live { position: fixed; left: 50%; bottom: .75rem; transform: translateX(-50%); max-width: 92vw; margin: 0; padding: .45rem .9rem; border-radius: 1.2rem; background: #1d2330; color: #fff; font-size: .9rem; box-shadow: 0 2px 8px rgba(0,0,0,.2); transition: opacity .3s; }
  #live:empty { opacity: 0; pointer-events: none; }
  @media (max-width: 30rem) {
    main { padding: .5rem; gap: .5rem; } .panel { padding: .6rem; }
    .cluster { padding: .5rem; } .review-state { margin-left: 0; }
    #filters > label { flex: 1 1 40%; } #filters > label:first-child, #who > label { flex-basis: 100%; } #filters input[type=number] { width: 100%; }
    .controls > form { flex: 1 1 100%; }
    .keys, button kbd { display: none; } /* no keyboard on a phone: the buttons do the same */
    .actions button, .member-actions button { flex: 1 1 auto; min-height: 2.75rem; }
  }
</style>
</head>
<body>
<header class="top">
  <h1><a href="/">Question dedup</a> · review</h1>
  <span id="connection" data-state="connecting" role="status">connecting</span>
  <div id="review-bar" class="bar" role="progressbar" aria-label="clusters reviewed" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0"><div class="fill"></div></div>
</header>
<main>
  <p id="notice" class="panel" role="alert"></p>
  <section id="summary" class="panel">
    <h2 id="task-title">Review</h2>
    <p id="review-counts" class="message" role="status"></p>
    <div class="controls">
    <form id="filters">
      <label>Review state<select name="review"><option value="">all</option><option value="unreviewed">unreviewed</option><option value="confirmed">confirmed</option><option value="dismissed">dismissed</option><option value="partial">partial</option></select></label>
      <label>Min similarity<input name="min_similarity" type="number" min="0" max="1" step="0.01" inputmode="decimal"></label>
      <label>Max similarity<input name="max_similarity" type="number" min="0" max="1" step="0.01" inputmode="decimal"></label>
    </form>
    <form id="who"><label>Reviewing as<input id="reviewer" name="reviewer" maxlength="100" autocomplete="nickname" placeholder="your name (X-Reviewer)"></label></form>
    </div>
    <div class="actions" style="margin-top:.6rem"><button id="resolve" type="button" class="secondary">Resolve confirmed…</button><span id="resolve-result" class="message" role="status"></span></div>
    <p class="keys message"><kbd>j</kbd>/<kbd>k</kbd> next/previous question · <kbd>J</kbd>/<kbd>K</kbd> cluster · <kbd>y</kbd> confirm · <kbd>n</kbd> dismiss · <kbd>x</kbd> reject question · <kbd>c</kbd> make canonical</p>
  </section>
  <section id="clusters" class="panel">
    <h2 class="title">Clusters</h2>
    <div class="list"></div>
    <div class="pager"><button type="button" class="secondary" data-page="prev">Previous</button><span class="page-label message"></span><button type="button" class="secondary" data-page="next">Next</button></div>
  </section>
  <details class="panel"><summary>Access token</summary>
    <label>Only needed when the service runs with AUTH_TOKENS<input id="token" type="password" autocomplete="off"></label>
  </details>
</main>
<p id="live" role="status" aria-live="polite"></p>
<dialog id="resolve-dialog">
  <form method="dialog">
    <h2>Resolve confirmed clusters?</h2>
    <p class="confirm-text">Every other question of each confirmed cluster is marked a duplicate of its canonical question. Each one can be restored later.</p>
    <div class="actions"><button value="cancel" class="secondary" autofocus>Cancel</button><button value="resolve" id="resolve-confirm">Resolve</button></div>
  </form>
</dialog>
<script type="module" src="/review.js"></script>
</body>
</html>
`;
