/**
 * console/detail.js: one job: its facts, its next 5 slots (GET .../slots), its run history
 * (GET .../runs; a 404 for a job that exists means this server keeps none: "no run history"),
 * and the Trigger, Disable / Enable, Edit and Delete buttons (Delete asks first).
 */
export const DETAIL_JS = String.raw`
import { request, errorText, jobUrl } from './api.js';
import { $, el, setText } from './dom.js';
import { duration, lastStatusText, relative, scheduleText, timeText } from './format.js';

var current = null; // the job shown, as last read
var hooks = null;

export function shownJob() { return current; }

/** Reads the job, its slots and runs, and draws them; resolves with false when the job is gone. */
export async function loadDetail(job, now) {
  var answers = await Promise.all([
    request('GET', jobUrl(job)),
    request('GET', jobUrl(job, '/slots'), { count: '5' }),
    request('GET', jobUrl(job, '/runs'), { limit: '20' }),
  ]);
  var got = answers[0];
  if (got.status === 404) return false;
  if (!got.ok) throw new Error('job: ' + errorText(got));
  current = got.data;
  drawFacts(current, now);
  drawSlots(answers[1]);
  drawRuns(answers[2]);
  $('detail').hidden = false;
  return true;
}

function drawFacts(job, now) {
  setText('detail-title', job.path + ' · ' + job.body);
  setText('d-path', job.path);
  setText('d-body', job.body);
  setText('d-schedule', scheduleText(job));
  setText('d-next-run', job.next_run === null ? 'disabled' : timeText(job.next_run) + ' (' + relative(job.next_run, now) + ')');
  setText('d-anchor', timeText(job.anchor));
  setText('d-last-run', job.last_run === null ? 'never' : timeText(job.last_run) + ' (' + relative(job.last_run, now) + ')');
  setText('d-last-status', lastStatusText(job) + (job.last_error ? ': ' + job.last_error : ''));
  $('d-last-status').classList.toggle('bad', job.attempts > 0);
  setText('d-attempts', job.attempts);
  setText('toggle', job.enabled ? 'Disable' : 'Enable');
  $('trigger').disabled = !job.enabled;
}

function drawSlots(answer) {
  var list = $('slots');
  list.textContent = '';
  if (!answer.ok) {
    list.appendChild(el('li', { text: 'slots unavailable: ' + errorText(answer) }));
    return;
  }
  answer.data.slots.forEach(function (slot) { list.appendChild(el('li', { text: timeText(slot) })); });
}

function drawRuns(answer) {
  var rows = $('run-rows');
  rows.textContent = '';
  var runs = answer.ok && answer.data && Array.isArray(answer.data.runs) ? answer.data.runs : null;
  $('runs').hidden = runs === null || runs.length === 0;
  if (runs === null) {
    setText('runs-note', answer.status === 404 ? 'no run history' : 'run history unavailable: ' + errorText(answer));
    return;
  }
  setText('runs-note', runs.length === 0 ? 'no runs yet' : answer.data.next_cursor ? 'the last ' + runs.length + ' runs' : '');
  runs.forEach(function (run) {
    var took = run.finished_at ? duration(Math.max(0, Date.parse(run.finished_at) - Date.parse(run.started_at))) : 'running';
    var status = run.status === null ? (run.error || 'no answer') : String(run.status) + (run.error ? ': ' + run.error : '');
    var row = el('tr', {}, [
      el('td', { text: timeText(run.sched) }),
      el('td', { text: run.attempt }),
      el('td', { text: timeText(run.started_at) }),
      el('td', { text: took }),
      el('td', { text: status, className: run.status === 200 ? '' : 'bad' }),
      el('td', { text: run.instance, className: 'key' }),
    ]);
    rows.appendChild(row);
  });
}

export function closeDetail() {
  current = null;
  $('detail').hidden = true;
}

async function act(method, query, done) {
  var job = current;
  if (job === null) return;
  setText('action-note', '');
  var answer = await request(method, jobUrl(job), query).catch(function (error) { return { ok: false, status: 0, data: { error: error.message } }; });
  setText('action-note', answer.ok ? done : errorText(answer));
  hooks.onChanged(answer.ok && method === 'DELETE' ? null : job);
}

/** Wires the buttons: onChanged(job or null) after a change, onEdit(job) for Edit, onClose(). */
export function initDetail(callbacks) {
  hooks = callbacks;
  $('trigger').addEventListener('click', function () { act('POST', {}, 'triggered: the callback is on its way'); });
  $('toggle').addEventListener('click', function () {
    if (current === null) return;
    act('PATCH', current.enabled ? { disable: 'true' } : { enable: 'true' }, current.enabled ? 'disabled' : 'enabled');
  });
  $('edit').addEventListener('click', function () { if (current !== null) hooks.onEdit(current); });
  $('close-detail').addEventListener('click', function () { hooks.onClose(); });
  var dialog = $('confirm');
  $('delete').addEventListener('click', function () {
    if (current === null) return;
    setText('confirm-text', 'Delete the job ' + current.path + ' · ' + current.body + '? Its schedule is gone for good.');
    dialog.showModal();
  });
  $('confirm-no').addEventListener('click', function () { dialog.close(); $('delete').focus(); });
  $('confirm-yes').addEventListener('click', function () {
    dialog.close();
    act('DELETE', {}, 'deleted');
  });
}
`;
