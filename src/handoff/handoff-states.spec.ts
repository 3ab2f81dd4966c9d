import { readFileSync } from 'node:fs';
import { ATTEMPT_END, enters, leaves, OPEN_STATES, TRANSITIONS } from './handoff-states.js';
import { HANDOFF_STATES } from './handoff.types.js';

describe('the handoff state machine', () => {
  it('is drawn in docs/handoff-states.md with exactly its transitions', () => {
    const doc = readFileSync(new URL('../../docs/handoff-states.md', import.meta.url), 'utf8');
    const drawn = [...doc.matchAll(/^ {2}(\S+) --> (\S+): (\w+)$/gm)].map(
      ([, from, to, name]) => `${from} ${to} ${name}`,
    );
    const table = Object.entries(TRANSITIONS).flatMap(([name, t]) =>
      (t.from.length > 0 ? [...t.from] : ['[*]']).map((from) => `${from} ${t.to} ${name}`),
    );
    expect(drawn.sort()).toEqual(table.sort());
  });

  it('reaches every state, and leaves every open state', () => {
    const entered = new Set(Object.values(TRANSITIONS).map((t) => t.to));
    expect([...entered].sort()).toEqual([...HANDOFF_STATES].sort());
    const left = new Set<string>(Object.values(TRANSITIONS).flatMap((t) => [...t.from]));
    for (const state of OPEN_STATES) expect(left.has(state)).toBe(true);
    expect(left.has('delivered')).toBe(false);
    expect(left.has('cancelled')).toBe(false);
  });

  it('ends an attempt only from delivering', () => {
    for (const name of Object.values(ATTEMPT_END)) expect(TRANSITIONS[name].from).toEqual(['delivering']);
  });

  it('writes the guards the statements are built from', () => {
    expect(leaves('disconnect')).toBe("state IN ('pending', 'delivering', 'held')");
    expect(leaves('requeue', 'h.state')).toBe("h.state IN ('pending', 'delivering')");
    expect(enters('expire')).toBe("state = 'failed'");
    expect(() => leaves('accept')).toThrow(/creates a handoff/);
  });
});
