import { createHmac } from 'node:crypto';
import { activityId, contentKey, ENDING_EVENTS, mapActivity } from './activity-mapping.js';

const hash = (fingerprint: string) =>
  createHmac('sha256', 'test key').update(fingerprint).digest('base64url');

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

describe('contentKey and activityId: what recognises an activity that comes again', () => {
  const reply = { type: 'message', text: 'On it', from: { id: 'agent-1', name: 'Dana' } };

  it('the id, when the sender gave one', () => {
    expect(activityId({ ...reply, id: 'abc' })).toBe('abc');
    expect(activityId(reply)).toBeNull();
    expect(activityId({ ...reply, id: '' })).toBeNull();
  });

  it('the same content key for the webhook call and the message read back, whatever their ids and times', () => {
    const key = contentKey(reply, hash);
    expect(key).toMatch(/^hmac:/);
    const readBack = {
      ...reply,
      attachments: [],
      messageId: '1765015200123',
      timestamp: '2026-12-06T10:00:00.123Z',
      channelData: {},
      from: { id: 'agent-1', name: 'Dana (renamed)' },
    };
    expect(contentKey(readBack, hash)).toBe(key);
  });

  it('another key when anything said, or the sender, differs', () => {
    const key = contentKey(reply, hash);
    for (const other of [
      { ...reply, text: 'On it!' },
      { ...reply, from: { id: 'agent-2' } },
      { ...reply, name: 'AgentAccepted' },
      {
        ...reply,
        attachments: [{ contentType: 'image/png', contentUrl: 'https://x.example/a.png', name: 'a' }],
      },
    ]) {
      expect(contentKey(other, hash)).not.toBe(key);
    }
  });

  it('none for typing: repeated indicators are all passed on', () => {
    expect(contentKey({ type: 'typing', from: { id: 'agent-1' } }, hash)).toBeNull();
  });
});
