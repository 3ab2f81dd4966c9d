import { startTestApp, TestApp } from './support/app.js';
import { connect, handoffBody, submit } from './support/handoff.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';

describe('Handoff limits per org', () => {
  let ms: MicrosoftWorld;
  let t: TestApp;

  beforeAll(async () => {
    ms = await startMicrosoft();
    // No workers: what is measured is acceptance, not delivery.
    t = await startTestApp({
      env: { ...ms.env, HANDOFF_CONCURRENCY: '0', HANDOFF_RATE_LIMIT_PER_MINUTE: '3' },
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
});
