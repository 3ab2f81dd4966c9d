// When readiness has changed enough to say so (an audit event, an alert): whether a handoff would
// work, and which checks fail. Details (a depth's label, a queue's name) are not a change.
import type { Readiness } from '../settings/verification.types.js';

export interface ReadinessSummary {
  ready: boolean;
  failing: string[];
}

export function summariseReadiness(readiness: Readiness): ReadinessSummary {
  return {
    ready: readiness.ready,
    failing: readiness.checks
      .filter((c) => !c.ok)
      .map((c) => c.check)
      .sort(),
  };
}

/** The audit details of a change from `before` to `after`, or null when nothing that matters changed. */
export function readinessChange(before: Readiness | null, after: Readiness): Record<string, unknown> | null {
  const next = summariseReadiness(after);
  const previous = before ? summariseReadiness(before) : null;
  if (previous && previous.ready === next.ready && previous.failing.join() === next.failing.join())
    return null;
  if (!previous && next.ready) return null;
  return {
    ready: next.ready,
    failing: next.failing,
    previously_failing: previous?.failing ?? null,
    hints: after.checks.filter((c) => !c.ok).map((c) => c.hint),
  };
}
