// The handoff state machine: every change of a handoff's state is one of these transitions, and
// the repository builds its conditional statements from them (`WHERE state IN (from)`, `SET state
// = to`), so a transition the table does not allow cannot be written. docs/handoff-states.md
// draws it (a unit spec keeps the drawing and the table alike).
import type { HandoffState } from './handoff.types.js';

interface Transition {
  /** The states it leaves (none: the handoff is created in `to`). */
  from: readonly HandoffState[];
  to: HandoffState;
  /** What makes it happen. */
  on: string;
}

export const TRANSITIONS = {
  accept: { from: [], to: 'pending', on: 'accepted while the connection is usable' },
  acceptHeld: { from: [], to: 'held', on: 'accepted while the connection is invalid' },
  claim: {
    from: ['pending', 'delivering'],
    to: 'delivering',
    on: 'a worker takes its job (from delivering: the worker of the attempt before died)',
  },
  deliver: { from: ['delivering'], to: 'delivered', on: 'every record exists in Dynamics' },
  retryLater: {
    from: ['delivering'],
    to: 'pending',
    on: 'a timeout, 5xx or 429: a job for the next attempt',
  },
  hold: { from: ['delivering'], to: 'held', on: 'Microsoft refused the connection itself' },
  fail: {
    from: ['delivering'],
    to: 'failed',
    on: 'a refusal of the configuration, attempts exhausted, or too old',
  },
  cancelAttempt: { from: ['delivering'], to: 'cancelled', on: 'the attempt found the org disconnected' },
  resume: { from: ['held'], to: 'pending', on: 'the connection was verified again' },
  requeue: { from: ['pending', 'delivering'], to: 'pending', on: 'its job was lost (maintenance)' },
  retry: { from: ['failed'], to: 'pending', on: 'an admin retries it' },
  disconnect: { from: ['pending', 'delivering', 'held'], to: 'cancelled', on: 'the org disconnected' },
  expire: { from: ['pending', 'held'], to: 'failed', on: 'HANDOFF_MAX_AGE passed' },
} as const satisfies Record<string, Transition>;

export type TransitionName = keyof typeof TRANSITIONS;

/** The states a handoff is open in: it still has something to do. */
export const OPEN_STATES = ['pending', 'delivering', 'held'] as const satisfies readonly HandoffState[];

/** The transition that ends an attempt in `state`. */
export const ATTEMPT_END = {
  delivered: 'deliver',
  pending: 'retryLater',
  held: 'hold',
  failed: 'fail',
  cancelled: 'cancelAttempt',
} as const satisfies Partial<Record<HandoffState, TransitionName>>;

/** `state IN ('…', …)` for the states the transition leaves (column optionally qualified). */
export function leaves(name: TransitionName, column = 'state'): string {
  const from: readonly HandoffState[] = TRANSITIONS[name].from;
  if (from.length === 0) throw new Error(`${name} creates a handoff; it leaves no state`);
  return `${column} IN (${from.map((state) => `'${state}'`).join(', ')})`;
}

/** `state = '…'`: the state the transition enters. */
export function enters(name: TransitionName): string {
  return `state = '${TRANSITIONS[name].to}'`;
}
