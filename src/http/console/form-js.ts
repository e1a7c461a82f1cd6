/**
 * console/form.js: create or edit a job (PUT /jobs/<path>/<body>). The server judges the input:
 * its 400 message is shown as it is, beside the form, and the form keeps what was typed.
 */
export const FORM_JS = String.raw`
import { request, errorText, jobUrl } from './api.js';
import { $, setText } from './dom.js';

var onSaved = null;
var onCancel = null;

function kind() { return document.querySelector('input[name="kind"]:checked').value; }

/** Shows the fields of the chosen kind; a one-off's interval is the delay before its run. */
function drawKind() {
  var chosen = kind();
  document.querySelectorAll('[data-for]').forEach(function (block) {
    block.hidden = block.dataset.for.split(' ').indexOf(chosen) < 0;
  });
  setText('f-interval-label', chosen === 'once' ? 'Delay (optional)' : 'Interval');
}

function showError(text) {
  var box = $('form-error');
  box.textContent = text;
  box.hidden = text === '';
}

/** Opens the form, empty (a new job) or filled in from a job (edit: path and body are its key). */
export function openForm(job) {
  $('job-form').reset();
  showError('');
  setText('editor-title', job ? 'Edit job' : 'New job');
  $('f-path').readOnly = Boolean(job);
  $('f-body').readOnly = Boolean(job);
  if (job) {
    $('f-path').value = job.path;
    $('f-body').value = job.body;
    var k = job.one_off ? 'once' : job.cron !== null ? 'cron' : 'interval';
    document.querySelector('input[name="kind"][value="' + k + '"]').checked = true;
    if (k === 'interval') $('f-interval').value = String(job.interval);
    if (k === 'cron') $('f-cron').value = job.cron;
    if (k === 'once') $('f-first-run').value = job.next_sched;
    $('f-location').value = job.location === 'UTC' ? '' : job.location;
  }
  drawKind();
  $('editor').hidden = false;
  (job ? $('f-interval') : $('f-path')).focus();
}

export function closeForm() { $('editor').hidden = true; }

export function formOpen() { return !$('editor').hidden; }

async function submit(event) {
  event.preventDefault();
  var path = $('f-path').value;
  var body = $('f-body').value;
  if (path === '' || body === '') {
    showError('path and body: both are needed');
    return;
  }
  var chosen = kind();
  var query = {
    interval: chosen === 'cron' ? undefined : $('f-interval').value.trim(),
    cron: chosen === 'cron' ? $('f-cron').value.trim() : undefined,
    'one-off': chosen === 'once' ? 'true' : undefined,
    'first-run': $('f-first-run').value.trim(),
    immediate: $('f-immediate').checked ? 'true' : undefined,
    location: $('f-location').value.trim(),
  };
  $('save').disabled = true;
  try {
    var answer = await request('PUT', jobUrl({ path: path, body: body }), query);
    if (!answer.ok) {
      showError(errorText(answer));
      return;
    }
    showError('');
    closeForm();
    onSaved(answer.data);
  } catch (error) {
    showError('no answer from the server: ' + error.message);
  } finally {
    $('save').disabled = false;
  }
}

export function initForm(saved, cancelled) {
  onSaved = saved;
  onCancel = cancelled;
  $('job-form').addEventListener('submit', submit);
  document.querySelectorAll('input[name="kind"]').forEach(function (radio) { radio.addEventListener('change', drawKind); });
  $('f-cancel').addEventListener('click', function () { closeForm(); onCancel(); });
  drawKind();
}
`;
