import { retryDelayMs } from './retry-delay.js';

describe('retryDelayMs', () => {
  it('doubles with each attempt, with 0.5–1.5× jitter', () => {
    expect([0, 1, 2].map((a) => retryDelayMs(a, 1000, null, 60_000, () => 0))).toEqual([500, 1000, 2000]);
    expect([0, 1, 2].map((a) => retryDelayMs(a, 1000, null, 60_000, () => 1))).toEqual([1500, 3000, 6000]);
  });

  it('waits at least as long as Retry-After asks', () => {
    expect(retryDelayMs(0, 1000, 7000, 60_000, () => 0.5)).toBe(7000);
    expect(retryDelayMs(3, 1000, 2000, 60_000, () => 0.5)).toBe(8000);
  });

  it('never longer than the cap, whatever Retry-After says', () => {
    expect(retryDelayMs(0, 1000, 3_600_000, 60_000)).toBe(60_000);
    expect(retryDelayMs(20, 1000, null, 60_000)).toBe(60_000);
  });
});
