import { activityKey, ENDING_EVENTS, mapActivity } from './activity-mapping.js';

describe('mapActivity: the webhook activity as an event document', () => {
  it.each(ENDING_EVENTS.map((name) => [name]))(
    '%s (an event or a named message) closes the conversation',
    (name) => {
      for (const type of ['event', 'message']) {
        expect(mapActivity({ type, name })).toEqual({ type: 'conversation.closed', data: { reason: name } });
      }
    },
  );

  it.each([
    [
      'endOfConversation',
      { type: 'endOfConversation' },
      { type: 'conversation.closed', data: { reason: 'endOfConversation' } },
    ],
    [
      'an event of another name',
      { type: 'event', name: 'AgentAccepted', value: 1 },
      { type: 'conversation.event', data: { name: 'AgentAccepted', value: 1 } },
    ],
    [
      'an unknown event',
      { type: 'event', name: 'SomethingNew' },
      { type: 'conversation.event', data: { name: 'SomethingNew' } },
    ],
    [
      'typing',
      { type: 'typing', from: { id: 'a', name: 'Dana' } },
      { type: 'agent.typing', data: { from: { id: 'a', name: 'Dana' } } },
    ],
  ])('%s', (_what, activity, mapped) => {
    expect(mapActivity(activity)).toEqual(mapped);
  });

  it('refuses what is not an activity it knows', () => {
    expect(() => mapActivity([])).toThrow();
    expect(() => mapActivity({ type: 'invoke' })).toThrow();
    expect(() => mapActivity({ type: 'event' })).toThrow();
  });
});

describe('activityKey: which webhook calls are the same activity', () => {
  const conversation = '2d9f3b5e-4c6d-4f7a-9b0c-1d2e3f4a5b6c';
  const reply = {
    type: 'message',
    text: 'On it',
    from: { id: 'agent-1' },
    timestamp: '2026-12-06T10:00:00.123Z',
  };

  it('is the id when the activity has one', () => {
    expect(activityKey(conversation, { ...reply, id: 'abc' })).toBe('abc');
  });

  it('is the same for a retried call without an id, and differs when anything said or its time differs', () => {
    const key = activityKey(conversation, reply);
    expect(key).toMatch(/^sha256:/);
    expect(activityKey(conversation.toUpperCase(), { ...reply })).toBe(key);
    for (const other of [
      { ...reply, text: 'On it!' },
      { ...reply, timestamp: '2026-12-06T10:00:05.000Z' },
      { ...reply, from: { id: 'agent-2' } },
    ]) {
      expect(activityKey(conversation, other)).not.toBe(key);
    }
    expect(activityKey('3e0a4c6f-5d7e-4a8b-8c1d-2e3f4a5b6c7d', reply)).not.toBe(key);
  });

  it('is none without an id or a timestamp: the same words said again are stored again', () => {
    expect(activityKey(conversation, { type: 'message', text: 'ok' })).toBeNull();
  });
});
