import { API_JS } from './api-js.js';
import { CHART_JS } from './chart-js.js';
import { DETAIL_JS } from './detail-js.js';
import { DOM_JS } from './dom-js.js';
import { FORM_JS } from './form-js.js';
import { FORMAT_JS } from './format-js.js';
import { JOBS_JS } from './jobs-js.js';
import { MAIN_JS } from './main-js.js';

/** The console's ES modules, served as /console/<name>: plain browser JavaScript, no build step. */
export const CONSOLE_MODULES: ReadonlyMap<string, string> = new Map([
  ['api.js', API_JS],
  ['chart.js', CHART_JS],
  ['detail.js', DETAIL_JS],
  ['dom.js', DOM_JS],
  ['form.js', FORM_JS],
  ['format.js', FORMAT_JS],
  ['jobs.js', JOBS_JS],
  ['main.js', MAIN_JS],
]);
