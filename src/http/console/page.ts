import { CONSOLE_CSS } from './style.js';

/**
 * The console's HTML: the page's structure only, no data (it is served without the token). The
 * scripts (console/main.js and the modules it imports) fill it in from the API. Links and script
 * URLs are relative, so the console also works behind a reverse proxy that mounts Dalga under a
 * prefix.
 */
export function consolePage(nonce: string, debugPage: boolean): string {
  const wheelLink = debugPage ? '<a id="debug-link" href="debug">Wheel view</a>' : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Dalga console</title>
<style nonce="${nonce}">${CONSOLE_CSS}</style>
</head>
<body>
<header class="top">
  <div class="brand">
    <h1>Dalga</h1>
    <span class="badge" id="state" title="this server's state">…</span>
    <span class="badge" id="role" title="the shards this server holds">…</span>
    <span class="dim" id="server"></span>
    ${wheelLink}
  </div>
  <div class="charts" aria-label="Last 15 minutes">
    <figure class="chart"><figcaption>Lag <span class="v" id="lag-now">…</span></figcaption><svg id="chart-lag" viewBox="0 0 160 36" preserveAspectRatio="none" role="img" aria-label="lag, last 15 minutes"></svg></figure>
    <figure class="chart"><figcaption>Callbacks/s <span class="v" id="callbacks-now">…</span></figcaption><svg id="chart-callbacks" viewBox="0 0 160 36" preserveAspectRatio="none" role="img" aria-label="callbacks per second, last 15 minutes"></svg></figure>
    <figure class="chart"><figcaption>Failures/s <span class="v" id="failures-now">…</span></figcaption><svg id="chart-failures" viewBox="0 0 160 36" preserveAspectRatio="none" role="img" aria-label="failures per second, last 15 minutes"></svg></figure>
  </div>
</header>

<form id="auth" class="panel auth" hidden>
  <p id="auth-note"></p>
  <label for="auth-token">API token</label>
  <input id="auth-token" type="password" autocomplete="current-password" required>
  <button type="submit">Use token</button>
</form>
<div id="notice" class="notice" role="status" aria-live="polite" hidden></div>

<main class="layout">
  <section class="panel" id="list" aria-labelledby="list-title">
    <div class="row-between">
      <h2 id="list-title">Jobs</h2>
      <button type="button" id="new-job">New job</button>
    </div>
    <div class="toolbar">
      <label for="search">Search</label>
      <input id="search" type="search" placeholder="path prefix" autocomplete="off" spellcheck="false">
      <div class="filters" role="group" aria-label="Filter">
        <button type="button" data-filter="all" aria-pressed="true">All</button>
        <button type="button" data-filter="failing" aria-pressed="false">Failing</button>
        <button type="button" data-filter="disabled" aria-pressed="false">Disabled</button>
      </div>
    </div>
    <div class="table-wrap">
      <table id="jobs">
        <thead><tr><th scope="col">Path</th><th scope="col">Body</th><th scope="col">Schedule</th><th scope="col">Next run</th><th scope="col">Last status</th><th scope="col">Attempts</th></tr></thead>
        <tbody id="job-rows"></tbody>
      </table>
    </div>
    <p id="list-empty" class="dim" hidden>No jobs.</p>
    <nav class="pager" aria-label="Pages">
      <button type="button" id="prev">Previous</button>
      <span id="page-info" class="dim">page 1</span>
      <button type="button" id="next">Next</button>
    </nav>
  </section>

  <div class="side">
    <section class="panel" id="detail" aria-labelledby="detail-title" hidden>
      <div class="row-between">
        <h2 id="detail-title">Job</h2>
        <button type="button" id="close-detail" aria-label="Close job">Close</button>
      </div>
      <dl class="facts">
        <dt>Path</dt><dd class="key" id="d-path"></dd>
        <dt>Body</dt><dd class="key" id="d-body"></dd>
        <dt>Schedule</dt><dd id="d-schedule"></dd>
        <dt>Next run</dt><dd id="d-next-run"></dd>
        <dt>Anchor</dt><dd id="d-anchor"></dd>
        <dt>Last run</dt><dd id="d-last-run"></dd>
        <dt>Last status</dt><dd id="d-last-status"></dd>
        <dt>Attempts</dt><dd id="d-attempts"></dd>
      </dl>
      <div class="actions">
        <button type="button" id="trigger">Trigger</button>
        <button type="button" id="toggle">Disable</button>
        <button type="button" id="edit">Edit</button>
        <button type="button" id="delete" class="danger">Delete</button>
      </div>
      <p id="action-note" class="dim" role="status" aria-live="polite"></p>
      <h3>Next slots</h3>
      <ol id="slots" class="slots"></ol>
      <h3>Run history</h3>
      <p id="runs-note" class="dim"></p>
      <div class="table-wrap">
        <table id="runs" hidden>
          <thead><tr><th scope="col">Slot</th><th scope="col">Attempt</th><th scope="col">Started</th><th scope="col">Took</th><th scope="col">Status</th><th scope="col">Instance</th></tr></thead>
          <tbody id="run-rows"></tbody>
        </table>
      </div>
    </section>

    <section class="panel" id="editor" aria-labelledby="editor-title" hidden>
      <h2 id="editor-title">New job</h2>
      <form id="job-form" novalidate>
        <label for="f-path">Path</label>
        <input id="f-path" required autocomplete="off" spellcheck="false">
        <label for="f-body">Body</label>
        <input id="f-body" required autocomplete="off" spellcheck="false">
        <fieldset class="kinds">
          <legend>Runs</legend>
          <label><input type="radio" name="kind" value="interval" checked> every interval</label>
          <label><input type="radio" name="kind" value="cron"> on a cron schedule</label>
          <label><input type="radio" name="kind" value="once"> once (one-off)</label>
        </fieldset>
        <div data-for="interval once">
          <label for="f-interval" id="f-interval-label">Interval</label>
          <input id="f-interval" autocomplete="off" spellcheck="false" aria-describedby="f-interval-help">
          <p class="help" id="f-interval-help">Seconds (60) or an ISO 8601 duration (PT1H30M, P1D).</p>
        </div>
        <div data-for="cron">
          <label for="f-cron">Cron</label>
          <input id="f-cron" autocomplete="off" spellcheck="false" placeholder="30 9 * * 1-5" aria-describedby="f-cron-help">
          <p class="help" id="f-cron-help">5 fields, or 6 with seconds first; evaluated in the location.</p>
        </div>
        <label for="f-first-run">First run</label>
        <input id="f-first-run" autocomplete="off" spellcheck="false" placeholder="2026-01-02T15:04:05Z" aria-describedby="f-first-run-help">
        <p class="help" id="f-first-run-help">Optional, RFC 3339. Empty: one interval from now (or the first cron time).</p>
        <label class="inline"><input type="checkbox" id="f-immediate"> Run immediately</label>
        <label for="f-location">Location</label>
        <input id="f-location" autocomplete="off" spellcheck="false" placeholder="UTC" aria-describedby="f-location-help">
        <p class="help" id="f-location-help">IANA time zone for calendar intervals and cron (default UTC).</p>
        <p id="form-error" class="error" role="alert" hidden></p>
        <div class="actions">
          <button type="submit" id="save">Save</button>
          <button type="button" id="f-cancel">Cancel</button>
        </div>
      </form>
    </section>
  </div>
</main>

<dialog id="confirm" aria-labelledby="confirm-text">
  <p id="confirm-text">Delete this job?</p>
  <div class="actions">
    <button type="button" class="danger" id="confirm-yes">Delete</button>
    <button type="button" id="confirm-no" autofocus>Cancel</button>
  </div>
</dialog>
<script type="module" nonce="${nonce}" src="console/main.js"></script>
</body>
</html>
`;
}
