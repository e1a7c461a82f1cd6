/**
 * console/chart.js: the header's last 15 minutes of lag, callbacks per second and failures per
 * second. Sampled by the page (GET /status for the lag, the dalga_callbacks_total counters of
 * GET /metrics for the rates) and kept in memory; a reload starts afresh.
 */
export const CHART_JS = String.raw`
import { $, setText, svg } from './dom.js';
import { shortNumber } from './format.js';

var WINDOW_MS = 15 * 60 * 1000;
var samples = []; // { t, lag, callbacks, failures }: counters as read

/** Sums of dalga_callbacks_total: all outcomes, and the failed ones (failure, timeout). */
export function callbackCounts(metricsText) {
  var counts = { callbacks: 0, failures: 0 };
  metricsText.split('\n').forEach(function (line) {
    var match = /^dalga_callbacks_total\{([^}]*)\} (\S+)/.exec(line);
    if (!match) return;
    var value = Number(match[2]);
    var outcome = /outcome="([^"]*)"/.exec(match[1]);
    counts.callbacks += value;
    if (outcome && (outcome[1] === 'failure' || outcome[1] === 'timeout')) counts.failures += value;
  });
  return counts;
}

export function addSample(t, lag, counts) {
  samples.push({ t: t, lag: lag, callbacks: counts ? counts.callbacks : null, failures: counts ? counts.failures : null });
  while (samples.length > 0 && samples[0].t < t - WINDOW_MS) samples.shift();
}

/** Per-second rates between consecutive samples; a counter that went down (a restart) starts over. */
function rates(key) {
  var points = [];
  for (var i = 1; i < samples.length; i++) {
    var a = samples[i - 1], b = samples[i];
    if (a[key] === null || b[key] === null || b.t <= a.t) continue;
    points.push({ t: b.t, v: Math.max(0, b[key] - a[key]) / ((b.t - a.t) / 1000) });
  }
  return points;
}

function draw(id, points, now) {
  var chart = $(id);
  chart.textContent = '';
  chart.appendChild(svg('line', { x1: 0, y1: 35, x2: 160, y2: 35 }));
  if (points.length === 0) return;
  var max = points.reduce(function (m, p) { return Math.max(m, p.v); }, 0) || 1;
  var coords = points.map(function (p) {
    var x = ((p.t - (now - WINDOW_MS)) / WINDOW_MS) * 160;
    var y = 34 - (p.v / max) * 32;
    return x.toFixed(1) + ',' + y.toFixed(1);
  });
  if (coords.length === 1) coords.unshift('0,' + coords[0].split(',')[1]);
  chart.appendChild(svg('polyline', { points: coords.join(' ') }));
  chart.setAttribute('aria-label', chart.getAttribute('aria-label').split(':')[0] + ': peak ' + shortNumber(max));
}

export function drawCharts(now) {
  var lag = samples.map(function (s) { return { t: s.t, v: s.lag }; });
  var callbacks = rates('callbacks');
  var failures = rates('failures');
  draw('chart-lag', lag, now);
  draw('chart-callbacks', callbacks, now);
  draw('chart-failures', failures, now);
  var last = function (points) { return points.length === 0 ? '…' : shortNumber(points[points.length - 1].v); };
  setText('lag-now', lag.length === 0 ? '…' : last(lag) + ' s');
  setText('callbacks-now', last(callbacks));
  setText('failures-now', last(failures));
}
`;
