import { validatePath } from '../jobs/job-key.js';

export class UnsafeCallbackUrlError extends Error {
  override name = 'UnsafeCallbackUrlError';
}

/**
 * baseurl + path, built so that the result always stays under baseurl: every path segment is
 * percent-encoded (so "?", "#", "@", ":" and "%" are literal), and the result is checked to have
 * the base's origin and to start with the base's path. Paths are validated at PUT too; this is the
 * second line of defence for rows that reached the database some other way.
 */
export function callbackUrl(baseUrl: URL, path: string): URL {
  try {
    validatePath(path);
  } catch (error) {
    throw new UnsafeCallbackUrlError(`refusing callback for unsafe path: ${(error as Error).message}`);
  }
  const encoded = path.split('/').map(encodeURIComponent).join('/');
  const url = new URL(baseUrl.href);
  url.pathname = `${baseUrl.pathname}${encoded}`;
  if (url.origin !== baseUrl.origin || !url.pathname.startsWith(baseUrl.pathname) || url.search || url.hash) {
    throw new UnsafeCallbackUrlError(`refusing callback: ${JSON.stringify(path)} would leave the endpoint base URL`);
  }
  return url;
}
