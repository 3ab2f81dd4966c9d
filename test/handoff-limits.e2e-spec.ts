import { startTestApp, TestApp } from './support/app.js';
import { connect, connectMessaging, HANDOFFS, handoffBody, submit, waitForState } from './support/handoff.js';
import { openStream } from './support/sse.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';

describe('Handoff limits per org', () => {
  let ms: MicrosoftWorld;
  let t: TestApp;

  beforeAll(async () => {
    ms = await startMicrosoft();
    t = await startTestApp({
      env: {
        ...ms.env,
        DYNAMICS_ALLOWED_ORIGINS: `${ms.environment.origin},${ms.environment.messaging!.origin}`,
        HANDOFF_RATE_LIMIT_PER_MINUTE: '3',
        EVENT_STREAMS_PER_TOKEN: '2',
      },
    });
    await connect(t, ms, 'busy');
    await connect(t, ms, 'quiet');
  });
  afterAll(async () => {
    await t.close();
    await ms.sandbox.close();
  });

  it('accepts HANDOFF_RATE_LIMIT_PER_MINUTE new handoffs per org a minute, then 429 with Retry-After', async () => {
    const token = await t.token({ org: 'busy', roles: ['handoff'] });
    // Near the end of a minute the window turns during the test: start in a fresh one.
    const second = new Date().getUTCSeconds();
    if (second > 50) await new Promise((resolve) => setTimeout(resolve, (61 - second) * 1000));
    for (let i = 0; i < 3; i++) expect((await submit(t, token, handoffBody(`busy-${i}`))).status).toBe(202);
    const refused = await submit(t, token, handoffBody('busy-3'));
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('rate_limited');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // A replay of an accepted session is not a new handoff: answered as before, not counted.
    expect((await submit(t, token, handoffBody('busy-0'))).status).toBe(200);
    // Another org has its own count.
    const quiet = await t.token({ org: 'quiet', roles: ['handoff'] });
    expect((await submit(t, quiet, handoffBody('quiet-0'))).status).toBe(202);
  }, 90_000);

  it('holds at most EVENT_STREAMS_PER_TOKEN streams open per token, and ends a stream when its token expires', async () => {
    await connectMessaging(t, ms, 'streams');
    const handoffToken = await t.token({ org: 'streams', roles: ['handoff'] });
    await submit(t, handoffToken, handoffBody('streamed', { channel: 'web' }));
    await waitForState(t, handoffToken, 'streamed', ['delivered']);
    const url = `${t.baseUrl}${HANDOFFS}/streamed/events`;
    const first = await openStream(url, handoffToken);
    const second = await openStream(url, handoffToken);
    const third = await openStream(url, handoffToken);
    expect([first.status, second.status, third.status]).toEqual([200, 200, 429]);
    const other = await openStream(url, await t.token({ org: 'streams', roles: ['handoff'], sub: 'other' }));
    expect(other.status).toBe(200);
    first.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const again = await openStream(url, handoffToken);
    expect(again.status).toBe(200);
    for (const stream of [second, other, again]) stream.close();

    const shortLived = await openStream(
      url,
      await t.token({ org: 'streams', roles: ['handoff'], ttlSeconds: 2 }),
    );
    expect(shortLived.status).toBe(200);
    await shortLived.waitForEnd(6000);
  });
});
