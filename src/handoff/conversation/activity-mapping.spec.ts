import { ENDING_EVENTS, mapActivity } from './activity-mapping.js';

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
