import { startTestApp, TestApp } from './support/app.js';
import { connect, countRows, HANDOFF_TEST_ENV, handoffBody, HANDOFFS } from './support/handoff.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';

const entry = { role: 'customer', text: 'hello', at: '2026-11-30T09:00:00Z' };

/** Each body, and the field the 400 must name. */
const BAD_BODIES: [string, unknown, string][] = [
  ['missing session_id', { channel: 'email' }, 'session_id'],
  ['empty session_id', { session_id: '', channel: 'email' }, 'session_id'],
  ['session_id too long', { session_id: 'a'.repeat(129), channel: 'email' }, 'session_id'],
  ['session_id with a space', { session_id: 'a b', channel: 'email' }, 'session_id'],
  ['session_id with a slash', { session_id: 'a/b', channel: 'email' }, 'session_id'],
  ['session_id a dot', { session_id: '.', channel: 'email' }, 'session_id'],
  ['session_id two dots', { session_id: '..', channel: 'email' }, 'session_id'],
  ['session_id a number', { session_id: 42, channel: 'email' }, 'session_id'],
  ['missing channel', { session_id: 'x' }, 'channel'],
  ['unknown channel', { session_id: 'x', channel: 'fax' }, 'channel'],
  ['channel in capitals', { session_id: 'x', channel: 'EMAIL' }, 'channel'],
  ['customer not an object', { session_id: 'x', channel: 'email', customer: 'Ada' }, 'customer'],
  ['customer an array', { session_id: 'x', channel: 'email', customer: [] }, 'customer'],
  [
    'customer.email malformed',
    { session_id: 'x', channel: 'email', customer: { email: 'not-an-email' } },
    'customer.email',
  ],
  [
    'customer.email too long',
    { session_id: 'x', channel: 'email', customer: { email: `${'a'.repeat(95)}@example.com` } },
    'customer.email',
  ],
  [
    'customer.phone with letters',
    { session_id: 'x', channel: 'email', customer: { phone: 'call me' } },
    'customer.phone',
  ],
  [
    'customer.name too long',
    { session_id: 'x', channel: 'email', customer: { name: 'n'.repeat(201) } },
    'customer.name',
  ],
  ['customer.name empty', { session_id: 'x', channel: 'email', customer: { name: '' } }, 'customer.name'],
  ['customer unknown field', { session_id: 'x', channel: 'email', customer: { age: 3 } }, 'customer.age'],
  ['unknown top-level field', { session_id: 'x', channel: 'email', priority: 1 }, 'priority'],
  [
    'classification too long',
    { session_id: 'x', channel: 'email', classification: 'c'.repeat(101) },
    'classification',
  ],
  ['sentiment a number', { session_id: 'x', channel: 'email', sentiment: 3 }, 'sentiment'],
  ['summary too long', { session_id: 'x', channel: 'email', summary: 's'.repeat(10_001) }, 'summary'],
  ['transcript not an array', { session_id: 'x', channel: 'email', transcript: 'hello' }, 'transcript'],
  [
    'transcript over 1,000 entries',
    { session_id: 'x', channel: 'email', transcript: Array.from({ length: 1001 }, () => entry) },
    'transcript',
  ],
  ['transcript entry a string', { session_id: 'x', channel: 'email', transcript: ['hello'] }, 'transcript'],
  [
    'transcript role unknown',
    { session_id: 'x', channel: 'email', transcript: [{ ...entry, role: 'bot' }] },
    'transcript[0].role',
  ],
  [
    'transcript text missing',
    { session_id: 'x', channel: 'email', transcript: [entry, { role: 'ai', at: entry.at }] },
    'transcript[1].text',
  ],
  [
    'transcript text too long',
    { session_id: 'x', channel: 'email', transcript: [{ ...entry, text: 't'.repeat(20_001) }] },
    'transcript[0].text',
  ],
  [
    'transcript at not a date',
    { session_id: 'x', channel: 'email', transcript: [{ ...entry, at: 'yesterday' }] },
    'transcript[0].at',
  ],
  [
    'transcript entry unknown field',
    { session_id: 'x', channel: 'email', transcript: [{ ...entry, mood: 'ok' }] },
    'transcript[0].mood',
  ],
  ['a NUL character', { session_id: 'x', channel: 'email', summary: 'a\u0000b' }, 'summary'],
  ['a body that is an array', [{ session_id: 'x', channel: 'email' }], 'body'],
  ['null body', null, 'body'],
];

describe('Handoff input: refused with the field named, before anything is stored or sent', () => {
  let ms: MicrosoftWorld;
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    ms = await startMicrosoft();
    t = await startTestApp({ env: { ...ms.env, ...HANDOFF_TEST_ENV } });
    await connect(t, ms, 'acme');
    token = await t.token({ org: 'acme', roles: ['handoff'] });
  });
  afterAll(async () => {
    await t.close();
    await ms.sandbox.close();
  });

  it(`refuses ${BAD_BODIES.length} malformed bodies with 400 naming the field`, async () => {
    expect(BAD_BODIES.length).toBeGreaterThanOrEqual(25);
    const received = ms.mark();
    for (const [label, body, field] of BAD_BODIES) {
      const response = await t.request(HANDOFFS, {
        method: 'POST',
        token,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const answer = (await response.json()) as { error: { code: string; details?: { field: string }[] } };
      expect({ label, status: response.status, code: answer.error.code }).toEqual({
        label,
        status: 400,
        code: 'validation_failed',
      });
      expect({ label, fields: answer.error.details?.map((d) => d.field) }).toEqual({
        label,
        fields: expect.arrayContaining([field]),
      });
    }
    expect(await countRows(t.databaseUrl, 'SELECT count(*) AS n FROM handoffs')).toBe(0);
    expect(
      await countRows(t.databaseUrl, "SELECT count(*) AS n FROM pgboss.job WHERE name = 'handoff-delivery'"),
    ).toBe(0);
    expect(received().filter((r) => r.server === 'dataverse')).toEqual([]);
  });

  it('answers a large body without a valid token 401 before reading it (no parse, no walk)', async () => {
    const post = (body: string, token?: string) =>
      t.request(HANDOFFS, { method: 'POST', headers: { 'content-type': 'application/json' }, body, token });
    // A body the parser would refuse (malformed JSON) and one the walk would refuse (a NUL): had
    // either been read, the answer would be a 400 naming the problem.
    for (const body of [
      '{"session_id": ',
      JSON.stringify({ session_id: 'x', channel: 'email', summary: 'a\u0000b' }),
    ]) {
      for (const token of [undefined, 'not-a-token']) {
        const response = await post(body, token);
        expect([
          response.status,
          ((await response.json()) as { error: { code: string } }).error.code,
        ]).toEqual([401, 'unauthorized']);
      }
    }
    const flood = `[${'{},'.repeat(340_000)}{}]`;
    expect((await post(flood)).status).toBe(401);
    // With a valid token the body is read and refused as before; a body that is not an object is
    // refused before it is walked or validated.
    const token = await t.token({ roles: ['handoff'] });
    expect((await post('{"session_id": ', token)).status).toBe(400);
    const array = await post(flood, token);
    expect(array.status).toBe(400);
    expect(await array.json()).toMatchObject({
      error: {
        code: 'validation_failed',
        details: [{ field: 'body', message: 'body must be a JSON object' }],
      },
    });
  });

  it('refuses malformed JSON and other content types without storing anything', async () => {
    const bad = await t.request(HANDOFFS, {
      method: 'POST',
      token,
      headers: { 'content-type': 'application/json' },
      body: '{"session_id": "x",',
    });
    expect(bad.status).toBe(400);
    const text = await t.request(HANDOFFS, {
      method: 'POST',
      token,
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify(handoffBody('x')),
    });
    expect(text.status).toBe(415);
    expect(await countRows(t.databaseUrl, 'SELECT count(*) AS n FROM handoffs')).toBe(0);
  });
});
