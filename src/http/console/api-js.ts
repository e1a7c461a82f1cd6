/**
 * console/api.js: every API call of the console. With [listen] token set, the first 401 asks the
 * operator for the token (the #auth form) once; it is kept in sessionStorage (this tab, this
 * origin: /debug reads it too) and sent as `Authorization: Bearer`. A token the server refuses is
 * forgotten and asked for again.
 *
 * Browser code, kept as text (no build step); no backticks or dollar-brace in it: it lives in a
 * template literal.
 */
export const API_JS = String.raw`
// The API is beside the page: the scripts are served from <base>/console/.
var BASE = new URL('../', import.meta.url);
export var TOKEN_KEY = 'dalga-token';
var asking = null;

function askToken(refused) {
  if (asking) return asking;
  var form = document.getElementById('auth');
  var input = document.getElementById('auth-token');
  document.getElementById('auth-note').textContent = refused
    ? 'The server refused that token. Enter the API token again.'
    : 'This server needs its API token ([listen] token).';
  form.hidden = false;
  input.value = '';
  input.focus();
  asking = new Promise(function (resolve) {
    function onSubmit(event) {
      event.preventDefault();
      if (input.value === '') return;
      sessionStorage.setItem(TOKEN_KEY, input.value);
      form.removeEventListener('submit', onSubmit);
      form.hidden = true;
      asking = null;
      resolve();
    }
    form.addEventListener('submit', onSubmit);
  });
  return asking;
}

/** The URL of a job: each of path and body is one segment ("/" inside them is %2F). */
export function jobUrl(job, tail) {
  return 'jobs/' + encodeURIComponent(job.path) + '/' + encodeURIComponent(job.body) + (tail || '');
}

/**
 * One call: resolves with { status, ok, data } (data: the JSON answer, or null) for every answer
 * but 401, which asks for the token and tries again. Rejects only when no answer came.
 */
export async function request(method, path, query) {
  var url = new URL(path, BASE);
  Object.keys(query || {}).forEach(function (name) {
    if (query[name] !== undefined && query[name] !== null && query[name] !== '') url.searchParams.set(name, query[name]);
  });
  for (;;) {
    var token = sessionStorage.getItem(TOKEN_KEY);
    var response = await fetch(url, { method: method, headers: token ? { authorization: 'Bearer ' + token } : {}, cache: 'no-store' });
    if (response.status === 401) {
      // Only forget the token this request carried: another may have been entered meanwhile.
      if (token !== null && sessionStorage.getItem(TOKEN_KEY) === token) sessionStorage.removeItem(TOKEN_KEY);
      await askToken(token !== null);
      continue;
    }
    var text = await response.text();
    var data = null;
    if ((response.headers.get('content-type') || '').indexOf('json') >= 0 && text !== '') {
      try { data = JSON.parse(text); } catch (error) { data = null; }
    }
    return { status: response.status, ok: response.ok, data: data, text: text };
  }
}

/** The server's message for a failed call ({"error": "..."}), or its status. */
export function errorText(answer) {
  return answer.data && typeof answer.data.error === 'string' ? answer.data.error : 'HTTP ' + answer.status;
}
`;
