/** How a callback ended, as the metrics count it. */
export type CallbackOutcome = '200' | '204' | 'failure' | 'timeout';

export const CALLBACK_OUTCOMES: readonly CallbackOutcome[] = ['200', '204', 'failure', 'timeout'];

/**
 * 200 and 204 are the two answers the contract gives a meaning to; every other status and every
 * network error is a failure. A timeout is told apart because it points at a slow endpoint (or a
 * too small endpoint.timeout) rather than a broken one: CallbackClient reports it as a missing
 * status with an error text starting with "timeout:".
 */
export function callbackOutcome(result: { status: number | null; error: string | null }): CallbackOutcome {
  if (result.status === 200) return '200';
  if (result.status === 204) return '204';
  if (result.status === null && result.error?.startsWith('timeout:')) return 'timeout';
  return 'failure';
}
