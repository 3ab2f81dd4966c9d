/**
 * Keeps a cached figure fresh: `start` refreshes once and then every `everyMs`; `soon` asks for
 * one more refresh within `soonMs`, however many times it is called meanwhile. Timers are unref'd
 * so they never hold the process open; `stop` clears both.
 */
export class PeriodicRefresh {
  private timer?: NodeJS.Timeout;
  private pending?: NodeJS.Timeout;

  constructor(
    private readonly refresh: () => Promise<void>,
    private readonly everyMs: number,
    private readonly soonMs = 1000,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.everyMs);
    this.timer.unref();
  }

  soon(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      void this.refresh();
    }, this.soonMs);
    this.pending.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.pending);
  }
}
