/**
 * console/main.js: the page's state and its refresh loop. Every few seconds it reads /status and
 * /metrics (the header and its charts), the current page of jobs and the open job, and redraws
 * them in place: the search text, the filter, the page, the open job and the form are the
 * operator's and are never reset by a refresh.
 */
export const MAIN_JS = String.raw`
import { request, errorText } from './api.js';
import { addSample, callbackCounts, drawCharts } from './chart.js';
import { closeDetail, initDetail, loadDetail, shownJob } from './detail.js';
import { $, setText } from './dom.js';
import { closeForm, initForm, openForm } from './form.js';
import { drawFilter, list, loadJobs, nextPage, previousPage, resetPaging } from './jobs.js';

var REFRESH_MS = 3000;
var selected = null; // { path, body } of the open job
var timer = null;
var running = null;

function showNotice(problems) {
  var notice = $('notice');
  notice.textContent = problems.join(' · ');
  notice.hidden = problems.length === 0;
}

async function loadStatus(now) {
  var answers = await Promise.all([request('GET', 'status'), request('GET', 'metrics')]);
  var status = answers[0];
  if (!status.ok) return 'status: ' + errorText(status);
  var s = status.data;
  setText('state', s.state);
  $('state').className = 'badge ' + (s.state === 'ready' ? 'good' : 'warn');
  var cluster = s.instances.length > 1 ? s.shards.owned.length + ' of ' + s.shards.total + ' shards' : 'all shards';
  setText('role', cluster);
  $('role').className = 'badge ' + (s.shards.owned.length > 0 ? 'good' : 'warn');
  var others = s.instances.length > 1 ? ' · ' + s.instances.length + ' servers' : '';
  setText('server', s.instance_id + ' · v' + s.version + ' · ' + s.total_jobs + ' jobs, ' + s.disabled_jobs + ' disabled, ' + s.running_jobs + ' running' + others);
  addSample(now, s.lag, answers[1].ok ? callbackCounts(answers[1].text) : null);
  drawCharts(now);
  return null;
}

function openJob(job) {
  selected = { path: job.path, body: job.body };
  closeForm();
  refresh().then(function () {
    $('detail').scrollIntoView({ block: 'nearest' });
    $('trigger').focus();
  });
}

async function refreshOnce() {
  var now = Date.now();
  var problems = [];
  var step = function (promise) {
    return promise.then(function (problem) { if (problem) problems.push(problem); })
      .catch(function (error) { problems.push('no answer: ' + error.message); });
  };
  var asked = selected;
  var detail = asked === null ? Promise.resolve(null) : loadDetail(asked, now).then(function (found) {
    if (selected !== asked) { // closed or another job opened meanwhile
      if (selected === null) closeDetail();
      return null;
    }
    if (!found) { // deleted, here or elsewhere
      selected = null;
      closeDetail();
    }
    return null;
  });
  await Promise.all([step(loadStatus(now)), step(loadJobs(selected, now, openJob)), step(detail)]);
  showNotice(problems);
}

/** One refresh at a time; a refresh asked for while one runs follows it. */
function refresh() {
  clearTimeout(timer);
  var next = (running || Promise.resolve()).then(refreshOnce);
  running = next;
  return next.finally(function () {
    if (running === next) {
      running = null;
      timer = setTimeout(refresh, REFRESH_MS);
    }
  });
}

var searchTimer = null;
$('search').addEventListener('input', function () {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(function () {
    list.search = $('search').value;
    resetPaging();
    refresh();
  }, 250);
});
document.querySelectorAll('[data-filter]').forEach(function (button) {
  button.addEventListener('click', function () {
    list.filter = button.dataset.filter;
    resetPaging();
    drawFilter();
    refresh();
  });
});
$('next').addEventListener('click', function () { nextPage(); refresh(); });
$('prev').addEventListener('click', function () { previousPage(); refresh(); });
$('new-job').addEventListener('click', function () { openForm(null); });

initDetail({
  onChanged: function (job) {
    if (job === null) {
      selected = null;
      closeDetail();
      $('new-job').focus();
    }
    refresh();
  },
  onEdit: function (job) { openForm(job); },
  onClose: function () { selected = null; closeDetail(); refresh(); },
});
initForm(function (job) { openJob(job); }, function () { if (shownJob()) $('edit').focus(); else $('new-job').focus(); });
refresh();
`;
