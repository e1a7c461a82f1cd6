/** One HTTP request with a hard client-side deadline: how long it took, and what came back. */
export interface BoundedAnswer {
  method: string;
  path: string;
  /** null when no answer came before the deadline (or the connection failed). */
  status: number | null;
  /** The parsed JSON body, or null when the body was not a JSON object. */
  json: Record<string, unknown> | null;
  contentType: string | null;
  /** From sending to the end of the body (or to the deadline). */
  ms: number;
  /** Why there is no status. */
  failure: string | null;
}

/**
 * Sends a request and gives up after `deadlineMs`, so that a server that hangs shows up as a
 * failed assertion about that request instead of a test that never ends.
 */
export async function boundedRequest(baseUrl: string, method: string, path: string, deadlineMs: number): Promise<BoundedAnswer> {
  const started = performance.now();
  try {
    const response = await fetch(`${baseUrl}${path}`, { method, signal: AbortSignal.timeout(deadlineMs) });
    const text = await response.text();
    let json: Record<string, unknown> | null = null;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
    } catch {
      // not JSON: json stays null, which the caller's assertion reports
    }
    return {
      method,
      path,
      status: response.status,
      json,
      contentType: response.headers.get('content-type'),
      ms: performance.now() - started,
      failure: null,
    };
  } catch (error) {
    return { method, path, status: null, json: null, contentType: null, ms: performance.now() - started, failure: (error as Error).message };
  }
}
