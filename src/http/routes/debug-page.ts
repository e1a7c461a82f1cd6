import { sendPage } from '../page-response.js';
import type Router from '@koa/router';

/**
 * GET /debug: one self-contained HTML page (inline CSS and JS, no external assets, no build step)
 * that draws the loaded wheel from /debug/wheel once a second: a heat map of timers per slot
 * (levels x slots, each level's cursor outlined), the counts, and the next jobs due.
 *
 * The page lives in this template string rather than a separate .html file so that `tsc` output
 * (dist/) carries it without a copy step. It fetches `<its own path>/wheel`, so it also works behind a
 * reverse proxy that mounts Dalga under a prefix. Job paths and bodies are
 * user data: the script only ever puts them in the page through textContent, and the CSP below
 * (a fresh nonce per response) refuses any script or style that is not this page's own.
 */
function page(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Dalga wheel</title>
<style nonce="${nonce}">
  :root { --bg: #0f1419; --panel: #182029; --text: #d8dee6; --dim: #8a96a3; --accent: #f5a623; --empty: #1f2933; }
  * { box-sizing: border-box; }
  body { margin: 0; padding: 16px 20px; background: var(--bg); color: var(--text); font: 13px/1.4 system-ui, sans-serif; }
  h1 { font-size: 18px; margin: 0 0 4px; }
  h2 { font-size: 14px; margin: 18px 0 8px; color: var(--dim); font-weight: 600; text-transform: uppercase; letter-spacing: .05em; }
  .sub { color: var(--dim); }
  .error { background: #5c1d1d; color: #ffd7d7; padding: 6px 10px; border-radius: 4px; margin: 8px 0; display: none; }
  .tiles { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 12px; }
  .tile { background: var(--panel); border-radius: 6px; padding: 8px 12px; min-width: 110px; }
  .tile .v { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
  .tile .k { color: var(--dim); font-size: 12px; }
  .wheel { display: grid; gap: 3px; }
  .level { display: grid; grid-template-columns: 190px 1fr 70px; align-items: center; gap: 8px; }
  .level .label { color: var(--dim); font-size: 12px; white-space: nowrap; }
  .level .count { text-align: right; font-variant-numeric: tabular-nums; }
  .slots { display: grid; gap: 1px; }
  .cell { height: 16px; background: var(--empty); border-radius: 2px; cursor: pointer; position: relative; }
  .cell.cursor { outline: 2px solid var(--accent); outline-offset: -1px; z-index: 1; }
  .legend { color: var(--dim); font-size: 12px; margin-top: 6px; }
  .legend .cursor-mark { display: inline-block; width: 12px; height: 10px; outline: 2px solid var(--accent); outline-offset: -1px; vertical-align: middle; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--panel); font-variant-numeric: tabular-nums; }
  th { color: var(--dim); font-weight: 600; }
  td.key { font-family: ui-monospace, monospace; max-width: 420px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .auth { background: var(--panel); border-radius: 6px; padding: 8px 12px; margin: 8px 0; display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
  .auth[hidden] { display: none; }
  .auth input, .auth button { font: inherit; padding: 4px 8px; }
  :focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
  .cols { display: grid; grid-template-columns: 1fr 1fr; gap: 20px; }
  @media (max-width: 900px) { .cols { grid-template-columns: 1fr; } }
</style>
</head>
<body>
<h1>Dalga timing wheel</h1>
<div class="sub">now <span id="now">…</span> · wheel cursor <span id="cursor">…</span> · tick <span id="tick">…</span> · refreshed <span id="refreshed">never</span></div>
<div class="error" id="error"></div>
<form class="auth" id="auth" hidden>
  <span id="auth-note">This server needs its API token ([listen] token).</span>
  <label for="auth-token">API token</label>
  <input id="auth-token" type="password" autocomplete="current-password" required>
  <button type="submit">Use token</button>
</form>
<div class="tiles">
  <div class="tile"><div class="v" id="timers">…</div><div class="k">timers in the wheel</div></div>
  <div class="tile"><div class="v" id="in-flight">…</div><div class="k">callbacks in flight</div></div>
  <div class="tile"><div class="v" id="waiting">…</div><div class="k">waiting (due, no slot)</div></div>
  <div class="tile"><div class="v" id="disabled">…</div><div class="k">disabled jobs</div></div>
  <div class="tile"><div class="v" id="overdue">…</div><div class="k">overdue list</div></div>
  <div class="tile"><div class="v" id="overflow">…</div><div class="k">overflow list</div></div>
  <div class="tile"><div class="v" id="next-expiry">…</div><div class="k">next expiry</div></div>
</div>
<h2>Timers per slot</h2>
<div class="wheel" id="wheel"></div>
<div class="legend">Each row is a level, each cell a slot; brighter = more timers (log scale). <span class="cursor-mark"></span> the level's cursor. Click a slot to list its timers.</div>
<div class="cols">
  <div>
    <h2>Next due</h2>
    <table><thead><tr><th>due</th><th>in</th><th>path</th><th>body</th></tr></thead><tbody id="next"></tbody></table>
  </div>
  <div>
    <h2 id="slot-title">Slot</h2>
    <table><thead><tr><th>due</th><th>path</th><th>body</th></tr></thead><tbody id="slot"></tbody></table>
  </div>
</div>
<script nonce="${nonce}">
(function () {
  'use strict';
  var REFRESH_MS = 1000;
  // /debug/wheel beside this page, also under a proxy prefix and with a trailing slash.
  // (No backslashes anywhere in this script: it lives in a template literal, which eats them.)
  var WHEEL_URL = location.pathname.replace(/[/]+$/, '') + '/wheel';
  var selected = null; // {level, slot}
  // With [listen] token set: asked for once, kept in sessionStorage (shared with the console at /),
  // sent as Authorization: Bearer. The page itself answers without it; /debug/wheel does not.
  var TOKEN_KEY = 'dalga-token';
  var waitingForToken = false;
  var $ = function (id) { return document.getElementById(id); };

  function duration(ms) {
    var units = [['y', 31557600000], ['d', 86400000], ['h', 3600000], ['min', 60000], ['s', 1000]];
    for (var i = 0; i < units.length; i++) {
      if (ms >= units[i][1]) {
        var v = ms / units[i][1];
        return (v >= 100 ? Math.round(v) : Math.round(v * 10) / 10) + ' ' + units[i][0];
      }
    }
    return ms + ' ms';
  }

  function text(id, value) { $(id).textContent = String(value); }

  function row(cells) {
    var tr = document.createElement('tr');
    cells.forEach(function (c) {
      var td = document.createElement('td');
      td.textContent = c.text;
      if (c.key) { td.className = 'key'; td.title = c.text; }
      tr.appendChild(td);
    });
    return tr;
  }

  function color(count, max) {
    if (count === 0) return '';
    var t = Math.log(count + 1) / Math.log(max + 1); // 0..1
    var light = 22 + Math.round(t * 48);
    return 'hsl(' + Math.round(200 - t * 170) + ', 85%, ' + light + '%)';
  }

  function drawWheel(data) {
    var wheel = $('wheel');
    var max = 0;
    data.levels.forEach(function (l) { l.slot_counts.forEach(function (c) { if (c > max) max = c; }); });
    // Build the grid once; later refreshes only recolour it.
    if (wheel.childElementCount !== data.levels.length) {
      wheel.textContent = '';
      data.levels.forEach(function (l) {
        var line = document.createElement('div');
        line.className = 'level';
        var label = document.createElement('div');
        label.className = 'label';
        label.textContent = 'L' + l.level + ' · ' + duration(l.tick_ms) + '/slot · span ' + duration(l.span_ms);
        var slots = document.createElement('div');
        slots.className = 'slots';
        slots.style.gridTemplateColumns = 'repeat(' + l.slots + ', 1fr)';
        for (var s = 0; s < l.slots; s++) {
          var cell = document.createElement('div');
          cell.className = 'cell';
          cell.dataset.level = String(l.level);
          cell.dataset.slot = String(s);
          cell.addEventListener('click', onCellClick);
          slots.appendChild(cell);
        }
        var count = document.createElement('div');
        count.className = 'count';
        line.appendChild(label);
        line.appendChild(slots);
        line.appendChild(count);
        wheel.appendChild(line);
      });
    }
    data.levels.forEach(function (l, i) {
      var line = wheel.children[i];
      line.children[2].textContent = String(l.timers);
      var cells = line.children[1].children;
      for (var s = 0; s < cells.length; s++) {
        var c = l.slot_counts[s] || 0;
        var cell = cells[s];
        cell.dataset.count = String(c);
        cell.style.background = color(c, max);
        cell.classList.toggle('cursor', s === l.cursor);
        cell.title = 'level ' + l.level + ', slot ' + s + ': ' + c + ' timer' + (c === 1 ? '' : 's') + (s === l.cursor ? ' (cursor)' : '');
      }
    });
  }

  function drawNext(data, now) {
    var body = $('next');
    body.textContent = '';
    data.next.forEach(function (e) {
      body.appendChild(row([{ text: e.due }, { text: duration(Math.max(0, Date.parse(e.due) - now)) }, { text: e.path, key: true }, { text: e.body, key: true }]));
    });
    if (data.next.length === 0) body.appendChild(row([{ text: 'no timers' }, { text: '' }, { text: '' }, { text: '' }]));
  }

  function drawSlot(data) {
    if (!data.slot) return;
    text('slot-title', 'Slot ' + data.slot.slot + ' of level ' + data.slot.level + ' (' + data.slot.timers + ' timers)');
    var body = $('slot');
    body.textContent = '';
    data.slot.entries.forEach(function (e) {
      body.appendChild(row([{ text: e.due }, { text: e.path, key: true }, { text: e.body, key: true }]));
    });
  }

  function onCellClick(event) {
    var cell = event.currentTarget;
    selected = { level: Number(cell.dataset.level), slot: Number(cell.dataset.slot) };
    refresh();
  }

  var timer = null;
  function refresh() {
    clearTimeout(timer);
    var url = WHEEL_URL + '?next=20' + (selected ? '&level=' + selected.level + '&slot=' + selected.slot : '');
    if (waitingForToken) return;
    var token = sessionStorage.getItem(TOKEN_KEY);
    fetch(url, { cache: 'no-store', headers: token ? { authorization: 'Bearer ' + token } : {} })
      .then(function (response) {
        if (response.status === 401) {
          if (token !== null) sessionStorage.removeItem(TOKEN_KEY);
          askToken(token !== null);
          return null;
        }
        return response.json().then(function (data) {
          if (!response.ok) throw new Error(data && data.error ? data.error : 'HTTP ' + response.status);
          return data;
        });
      })
      .then(function (data) {
        if (data === null) return;
        var now = Date.parse(data.now);
        text('now', data.now);
        text('cursor', data.cursor);
        text('tick', duration(data.tick_ms));
        text('timers', data.timers);
        text('in-flight', data.in_flight);
        text('waiting', data.waiting);
        text('disabled', data.disabled);
        text('overdue', data.overdue);
        text('overflow', data.overflow);
        text('next-expiry', data.next_expiry === null ? 'none' : 'in ' + duration(Math.max(0, Date.parse(data.next_expiry) - now)));
        drawWheel(data);
        drawNext(data, now);
        drawSlot(data);
        text('refreshed', new Date().toLocaleTimeString());
        $('error').style.display = 'none';
      })
      .catch(function (error) {
        // Keep the last picture and say why it is stale.
        var banner = $('error');
        banner.textContent = 'refresh failed: ' + error.message;
        banner.style.display = 'block';
      })
      .then(function () { if (!waitingForToken) timer = setTimeout(refresh, REFRESH_MS); });
  }

  function askToken(refused) {
    waitingForToken = true;
    if (refused) text('auth-note', 'The server refused that token. Enter the API token again.');
    $('auth').hidden = false;
    $('auth-token').value = '';
    $('auth-token').focus();
  }
  $('auth').addEventListener('submit', function (event) {
    event.preventDefault();
    if ($('auth-token').value === '') return;
    sessionStorage.setItem(TOKEN_KEY, $('auth-token').value);
    $('auth').hidden = true;
    waitingForToken = false;
    refresh();
  });
  refresh();
})();
</script>
</body>
</html>
`;
}

export function debugPageRoutes(router: Router): void {
  router.get('/debug', (ctx) => {
    sendPage(ctx, page);
  });
}
