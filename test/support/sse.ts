import { eventually } from './eventually.js';

/** A Server-Sent Events stream read by a test: events parsed as they arrive, comments counted. */
export interface EventStream {
  status: number;
  headers: Headers;
  events: { id: string; event: string; data: any }[];
  comments: number;
  ended: boolean;
  /** Resolves once `count` events arrived in total (fails after `timeoutMs`). */
  waitFor: (count: number, timeoutMs?: number) => Promise<void>;
  waitForEnd: (timeoutMs?: number) => Promise<void>;
  close: () => void;
}

export async function openStream(url: string, token: string, lastEventId?: string): Promise<EventStream> {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
    signal: controller.signal,
  });
  const stream: EventStream = {
    status: response.status,
    headers: response.headers,
    events: [],
    comments: 0,
    ended: false,
    waitFor: (count, timeoutMs = 5000) =>
      until(() => stream.events.length >= count, timeoutMs, `${count} events`),
    waitForEnd: (timeoutMs = 5000) => until(() => stream.ended, timeoutMs, 'the end of the stream'),
    close: () => controller.abort(),
  };
  if (!response.body || !response.headers.get('content-type')?.startsWith('text/event-stream')) {
    stream.ended = true;
    return stream;
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const fields: Record<string, string> = {};
          for (const line of frame.split('\n')) {
            if (line.startsWith(':')) stream.comments += 1;
            const match = /^(\w+): ?(.*)$/.exec(line);
            if (match) fields[match[1]] = match[2];
          }
          if (fields.data !== undefined) {
            stream.events.push({ id: fields.id, event: fields.event, data: JSON.parse(fields.data) });
          }
        }
      }
    } catch {
      // aborted by the test
    } finally {
      stream.ended = true;
    }
  })();
  return stream;
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  await eventually(check, what, timeoutMs, 10);
}
