/**
 * The console's stylesheet (inlined into the page under its CSP nonce). One column on a phone,
 * the jobs beside the detail on a desktop; focus is always visible for keyboard use.
 */
export const CONSOLE_CSS = `
  :root { --bg: #0f1419; --panel: #182029; --line: #2a3542; --text: #d8dee6; --dim: #94a1ae; --accent: #f5a623;
    --ok: #4caf7d; --bad: #e5646e; --button: #25313e; }
  * { box-sizing: border-box; }
  body { margin: 0; background: var(--bg); color: var(--text); font: 14px/1.45 system-ui, sans-serif; }
  h1 { font-size: 20px; margin: 0; }
  h2 { font-size: 16px; margin: 0 0 8px; }
  h3 { font-size: 13px; margin: 16px 0 6px; color: var(--dim); text-transform: uppercase; letter-spacing: .05em; }
  a { color: var(--accent); }
  .dim { color: var(--dim); }
  .top { display: flex; flex-wrap: wrap; gap: 12px 24px; align-items: center; justify-content: space-between; padding: 12px 16px;
    border-bottom: 1px solid var(--line); }
  .brand { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: center; }
  .badge { padding: 2px 8px; border-radius: 10px; background: var(--button); font-size: 12px; }
  .badge.good { background: #1e4d35; }
  .badge.warn { background: #5c4a1d; }
  .charts { display: flex; flex-wrap: wrap; gap: 12px; }
  .chart { margin: 0; background: var(--panel); border-radius: 6px; padding: 6px 8px; width: 176px; }
  .chart figcaption { font-size: 12px; color: var(--dim); display: flex; justify-content: space-between; }
  .chart .v { color: var(--text); font-variant-numeric: tabular-nums; }
  .chart svg { display: block; width: 160px; height: 36px; }
  .chart polyline { fill: none; stroke: var(--accent); stroke-width: 1.5; vector-effect: non-scaling-stroke; }
  #chart-failures polyline { stroke: var(--bad); }
  .chart line { stroke: var(--line); stroke-width: 1; vector-effect: non-scaling-stroke; }
  .layout { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 16px; padding: 16px; align-items: start; }
  @media (max-width: 1000px) { .layout { grid-template-columns: minmax(0, 1fr); padding: 8px; } }
  .side { display: grid; gap: 16px; }
  .panel { background: var(--panel); border-radius: 8px; padding: 12px 14px; }
  .auth { margin: 16px; display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
  .auth p { flex-basis: 100%; margin: 0; }
  .notice { margin: 8px 16px 0; background: #5c1d1d; color: #ffd7d7; padding: 6px 10px; border-radius: 4px; }
  .row-between { display: flex; justify-content: space-between; align-items: center; gap: 8px; }
  .toolbar { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 8px 0; }
  .toolbar input { flex: 1 1 180px; }
  .filters { display: flex; gap: 4px; }
  button { font: inherit; color: var(--text); background: var(--button); border: 1px solid var(--line); border-radius: 5px;
    padding: 6px 12px; min-height: 34px; cursor: pointer; }
  button:hover { border-color: var(--dim); }
  button:disabled { opacity: .45; cursor: default; }
  button[aria-pressed="true"] { background: var(--accent); color: #111; border-color: var(--accent); }
  button.danger { border-color: var(--bad); color: #ffc9cd; }
  button.link { background: none; border: none; padding: 2px 0; min-height: 0; color: var(--accent); text-align: left;
    text-decoration: underline; font-family: ui-monospace, monospace; word-break: break-all; }
  input { font: inherit; color: var(--text); background: var(--bg); border: 1px solid var(--line); border-radius: 5px; padding: 6px 8px;
    min-height: 34px; width: 100%; }
  input[type="radio"], input[type="checkbox"] { width: auto; min-height: 0; }
  :focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
  .table-wrap { overflow-x: auto; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; font-variant-numeric: tabular-nums; }
  th { color: var(--dim); font-weight: 600; font-size: 12px; }
  td.key, dd.key { font-family: ui-monospace, monospace; word-break: break-all; }
  tr.selected { background: #223042; }
  tr.failing td:nth-child(5), .bad { color: var(--bad); }
  tr.disabled td { color: var(--dim); }
  .sub { display: block; color: var(--dim); font-size: 12px; }
  .pager { display: flex; gap: 12px; align-items: center; justify-content: flex-end; margin-top: 8px; }
  .facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 4px 12px; margin: 8px 0; }
  .facts dt { color: var(--dim); }
  .facts dd { margin: 0; }
  .actions { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 10px; }
  .slots { margin: 0; padding-left: 22px; font-variant-numeric: tabular-nums; }
  form label { display: block; margin: 10px 0 4px; }
  form label.inline, .kinds label { display: flex; gap: 6px; align-items: center; margin: 6px 0; }
  .kinds { border: 1px solid var(--line); border-radius: 5px; margin: 12px 0 0; }
  .help { margin: 4px 0 0; color: var(--dim); font-size: 12px; }
  .error { background: #5c1d1d; color: #ffd7d7; padding: 6px 10px; border-radius: 4px; }
  dialog { background: var(--panel); color: var(--text); border: 1px solid var(--line); border-radius: 8px; max-width: 420px; }
  dialog::backdrop { background: rgba(0, 0, 0, .6); }
  @media (max-width: 640px) {
    .top { padding: 10px 8px; }
    .charts { width: 100%; gap: 6px; }
    .chart { flex: 1 1 0; min-width: 0; width: auto; padding: 4px 6px; }
    .chart svg { width: 100%; }
    /* The jobs table as cards: one job a card, each value under its column's name. */
    #jobs thead { display: none; }
    #jobs tr { display: grid; grid-template-columns: 1fr 1fr; gap: 2px 12px; padding: 8px 0; border-bottom: 1px solid var(--line); }
    #jobs td { border: none; padding: 2px 4px; }
    #jobs td::before { content: attr(data-label); display: block; color: var(--dim); font-size: 11px; }
  }
  [hidden] { display: none !important; }
`;
