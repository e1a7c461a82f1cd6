/**
 * console/jobs.js: the jobs table (GET /jobs): search by path prefix, the All / Failing /
 * Disabled filters (status=failing, status=disabled) and cursor paging. Each row's path is a
 * button that opens the job.
 */
export const JOBS_JS = String.raw`
import { request, errorText } from './api.js';
import { $, el, setText } from './dom.js';
import { lastStatusText, relative, scheduleText, timeText } from './format.js';

export var PAGE_SIZE = 20;
var COLUMNS = ['Path', 'Body', 'Schedule', 'Next run', 'Last status', 'Attempts'];

/** Where the operator is in the list; kept across refreshes. cursors[i] opens page i. */
export var list = { search: '', filter: 'all', page: 0, cursors: [null], nextCursor: null };

/** The search, filter and page the table shows. */
var drawnFor = null;

export function resetPaging() {
  list.page = 0;
  list.cursors = [null];
  list.nextCursor = null;
}

export function sameJob(a, b) { return a !== null && b !== null && a.path === b.path && a.body === b.body; }

/** Fetches the current page and draws it; resolves with an error text, or null. */
export async function loadJobs(selected, now, onOpen) {
  var shown = JSON.stringify([list.search, list.filter, list.page]);
  var answer = await request('GET', 'jobs', {
    path: list.search,
    limit: String(PAGE_SIZE),
    cursor: list.cursors[list.page],
    status: list.filter === 'all' ? undefined : list.filter,
  });
  // The operator moved on while it was asked: the refresh that follows draws the new one.
  if (shown !== JSON.stringify([list.search, list.filter, list.page])) return null;
  if (!answer.ok) {
    // Keep the last picture through a passing outage, but never show one search's jobs under another's.
    if (shown !== drawnFor) {
      list.nextCursor = null;
      drawJobs([], selected, now, onOpen);
    }
    return 'jobs: ' + errorText(answer);
  }
  drawnFor = shown;
  list.nextCursor = answer.data.next_cursor;
  drawJobs(answer.data.jobs, selected, now, onOpen);
  return null;
}

function drawJobs(jobs, selected, now, onOpen) {
  var rows = $('job-rows');
  // The rows are rebuilt: put the focus back on the same job's button, so a refresh never moves the operator.
  var focused = document.activeElement && rows.contains(document.activeElement) ? document.activeElement.dataset.key : null;
  rows.textContent = '';
  jobs.forEach(function (job) {
    var key = JSON.stringify([job.path, job.body]);
    var open = el('button', { text: job.path, className: 'link', title: 'Open ' + job.path + ' ' + job.body });
    open.type = 'button';
    open.dataset.key = key;
    open.addEventListener('click', function () { onOpen(job); });
    var next = job.next_run === null ? el('td', { text: 'disabled' })
      : el('td', { title: job.next_run }, [el('span', { text: relative(job.next_run, now) }), el('span', { text: timeText(job.next_run), className: 'sub' })]);
    var row = el('tr', {}, [
      el('td', { className: 'key' }, [open]),
      el('td', { text: job.body, className: 'key' }),
      el('td', { text: scheduleText(job) }),
      next,
      el('td', { text: lastStatusText(job), title: job.last_error || '' }),
      el('td', { text: job.attempts }),
    ]);
    row.dataset.key = key;
    // Column names for the phone layout, where each row is a card (style.ts).
    Array.from(row.children).forEach(function (cell, i) { cell.dataset.label = COLUMNS[i]; });
    if (job.attempts > 0) row.classList.add('failing');
    if (!job.enabled) row.classList.add('disabled');
    if (sameJob(job, selected)) row.classList.add('selected');
    rows.appendChild(row);
    if (key === focused) open.focus();
  });
  $('list-empty').hidden = jobs.length > 0;
  setText('page-info', 'page ' + (list.page + 1));
  $('prev').disabled = list.page === 0;
  $('next').disabled = list.nextCursor === null;
}

export function drawFilter() {
  document.querySelectorAll('[data-filter]').forEach(function (button) {
    button.setAttribute('aria-pressed', String(button.dataset.filter === list.filter));
  });
}

export function nextPage() {
  if (list.nextCursor === null) return;
  list.cursors[list.page + 1] = list.nextCursor;
  list.page += 1;
}

export function previousPage() {
  if (list.page > 0) list.page -= 1;
}
`;
