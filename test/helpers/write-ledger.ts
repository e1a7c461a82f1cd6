/**
 * What a client may expect of each job key from the answers it got to PUT, DELETE and PATCH, when
 * every PUT of the key gives it an interval of its own (so the table says which PUT it holds):
 * - an acknowledged write (PUT 201, DELETE 204, PATCH 200, PATCH 404) settles the key: it must be
 *   in exactly that state;
 * - any other answer, or none (a 503, a server killed under the request), may or may not have been
 *   applied: the key may be in any state it could reach from its possible states, until a later
 *   acknowledged write settles it again.
 *
 * Requests of one key must be sent one after the other (the order they committed in is then the
 * order they were answered in).
 */

/** A job as the ledger follows it: gone, or there with the interval of the PUT that made it and enabled or not. */
export type KeyState = { kind: 'absent' } | { kind: 'present'; interval: number; enabled: boolean };

export const ABSENT: KeyState = { kind: 'absent' };

export function describeState(state: KeyState): string {
  return state.kind === 'absent' ? 'absent' : `interval ${state.interval}, ${state.enabled ? 'enabled' : 'disabled'}`;
}

function same(a: KeyState, b: KeyState): boolean {
  return a.kind === 'absent' ? b.kind === 'absent' : b.kind === 'present' && a.interval === b.interval && a.enabled === b.enabled;
}

export class WriteLedger {
  /** Per key, the states it may be in (one when settled). A key never written is absent. */
  private readonly states = new Map<string, KeyState[]>();
  /** Writes acknowledged so far. */
  acknowledged = 0;
  /** Writes whose outcome the client does not know. */
  unknown = 0;

  /** An acknowledged write: the key is now in `state`. */
  acknowledge(key: string, state: KeyState): void {
    this.acknowledged++;
    this.states.set(key, [state]);
  }

  /** A write that may or may not have been applied: `apply` gives the state it leads to from each possible one. */
  maybe(key: string, apply: (state: KeyState) => KeyState): void {
    this.unknown++;
    const possible = this.possible(key);
    const next = [...possible];
    for (const state of possible.map(apply)) if (!next.some((known) => same(known, state))) next.push(state);
    this.states.set(key, next);
  }

  /** The key was seen in `state` while no request of it was in flight (it is known again). */
  observed(key: string, state: KeyState): void {
    this.states.set(key, [state]);
  }

  possible(key: string): KeyState[] {
    return this.states.get(key) ?? [ABSENT];
  }

  /** Whether `state` is one the key may be in. */
  allows(key: string, state: KeyState): boolean {
    return this.possible(key).some((known) => same(known, state));
  }

  keys(): string[] {
    return [...this.states.keys()];
  }
}
