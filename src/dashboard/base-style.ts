/** The look both dashboard pages share: colours, header, panels, form controls, progress bars. */
export const BASE_CSS = /* css */ `
  :root { --fg: #1d2330; --muted: #5f6b7a; --line: #d9dee5; --accent: #2f6fed; --ok: #1f8a4c; --bad: #c0392b; --bg: #f6f7f9; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "PingFang SC", "Noto Sans CJK SC", sans-serif; color: var(--fg); background: var(--bg); }
  header.top { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; justify-content: space-between; padding: .75rem 1rem; background: #fff; border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 1; }
  header.top h1 { font-size: 1.1rem; margin: 0; }
  header.top nav a { margin-right: .75rem; color: var(--accent); text-decoration: none; }
  #connection { font-size: .85rem; padding: .15rem .6rem; border-radius: 1rem; background: #eee; }
  #connection[data-state=connected] { background: #dff3e6; color: var(--ok); }
  #connection[data-state=disconnected], #connection[data-state=error] { background: #fbe3e0; color: var(--bad); }
  main { max-width: 70rem; margin: 0 auto; padding: 1rem; display: grid; gap: 1rem; }
  .panel { background: #fff; border: 1px solid var(--line); border-radius: .5rem; padding: 1rem; }
  .panel h2 { font-size: 1rem; margin: 0 0 .75rem; }
  form { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; }
  label { display: grid; gap: .2rem; font-size: .85rem; color: var(--muted); }
  input, select, button { font: inherit; padding: .4rem .6rem; border: 1px solid var(--line); border-radius: .35rem; background: #fff; min-height: 2.25rem; }
  input[type=file] { max-width: 100%; }
  button { cursor: pointer; background: var(--accent); color: #fff; border-color: var(--accent); }
  button:disabled { opacity: .4; cursor: default; }
  button.secondary { background: #fff; color: var(--accent); }
  .bar { height: .8rem; background: #e8ebf0; border-radius: .4rem; overflow: hidden; margin: .5rem 0; }
  .bar .fill { height: 100%; width: 0; background: var(--accent); transition: width .2s; }
`;
