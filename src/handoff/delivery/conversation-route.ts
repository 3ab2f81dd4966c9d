// What the conversation route sends to the Omnichannel Messaging API, as plain functions of the
// handoff: the conversation's customer and context, the start message (summary and transcript
// within 27 KB) and the rest of the transcript as follow-up messages of at most 6,000 characters.
import type { HandoffRequest } from '../handoff.types.js';
import { splitName, transcriptLines } from './incident-route.js';

/** Microsoft's limits: the start message (bytes), each later message (characters), customer fields. */
const START_MESSAGE_BYTES = 27 * 1024;
const MESSAGE_CHARACTERS = 6000;
const CUSTOMER_FIELD = 200;
/** How the AI's side signs its messages to the representative. */
export const AI_DISPLAY_NAME = 'AI assistant';
const CONTINUED = '\n… (the transcript continues in the next messages)';

export interface ConversationPlan {
  create: Record<string, unknown>;
  /** Follow-up messages, in order; each ≤ 6,000 characters. */
  followUps: string[];
}

export function conversationPlan(request: HandoffRequest): ConversationPlan {
  const customer = request.customer ?? {};
  const { firstname, lastname } = splitName(customer.name);
  const header = [
    `Handed off by the AI assistant (${request.channel}).`,
    ...(request.summary ? [`Summary: ${request.summary}`] : []),
    ...(request.classification ? [`Classification: ${request.classification}`] : []),
    ...(request.sentiment ? [`Sentiment: ${request.sentiment}`] : []),
  ];
  const lines = transcriptLines(request.transcript);
  const { start, rest } = fitStart(header, lines);
  const context: Record<string, { isDisplayable: boolean; value: string }> = {
    sessionId: { isDisplayable: true, value: request.session_id },
    channel: { isDisplayable: true, value: request.channel },
    ...(request.classification
      ? { classification: { isDisplayable: true, value: request.classification } }
      : {}),
    ...(request.sentiment ? { sentiment: { isDisplayable: true, value: request.sentiment } } : {}),
  };
  return {
    create: {
      customercontext: strip({
        // The session id: Microsoft returns the active conversation of a customer id again, so a
        // retry after a lost answer finds the conversation instead of starting a second one.
        customerid: request.session_id,
        firstname: cut(firstname),
        lastname: cut(lastname),
        preferredname: cut(customer.name?.trim()),
        email: cut(customer.email?.trim()),
        phonenumber: cut(customer.phone?.trim()),
      }),
      conversationcontext: context,
      startmessage: { message: start, displayname: AI_DISPLAY_NAME },
      skipdeflectionbot: true,
    },
    followUps: pack(rest),
  };
}

/** The header and as many transcript lines as fit in 27 KB (with a marker when some do not). */
function fitStart(header: string[], lines: string[]): { start: string; rest: string[] } {
  const parts = [...header, ...(lines.length ? ['', 'Transcript:'] : [])];
  let start = parts.join('\n');
  const budget = START_MESSAGE_BYTES - Buffer.byteLength(CONTINUED);
  let i = 0;
  for (; i < lines.length; i++) {
    const next = `${start}\n${lines[i]}`;
    if (Buffer.byteLength(next) > budget) break;
    start = next;
  }
  if (Buffer.byteLength(start) > START_MESSAGE_BYTES) start = cutBytes(start, budget);
  return { start: i < lines.length ? `${start}${CONTINUED}` : start, rest: lines.slice(i) };
}

/** Lines packed into messages of at most 6,000 characters; a longer line is split. */
function pack(lines: string[]): string[] {
  const messages: string[] = [];
  let current = '';
  for (const line of lines) {
    let rest = line;
    while (rest.length > 0) {
      const room = MESSAGE_CHARACTERS - current.length - (current ? 1 : 0);
      if (rest.length <= room) {
        current = current ? `${current}\n${rest}` : rest;
        rest = '';
      } else if (current) {
        messages.push(current);
        current = '';
      } else {
        let head = rest.slice(0, MESSAGE_CHARACTERS);
        const last = head.charCodeAt(head.length - 1);
        if (last >= 0xd800 && last <= 0xdbff) head = head.slice(0, -1);
        messages.push(head);
        rest = rest.slice(head.length);
      }
    }
  }
  if (current) messages.push(current);
  return messages;
}

function cutBytes(text: string, bytes: number): string {
  const buffer = Buffer.from(text);
  if (buffer.length <= bytes) return text;
  // Decoding a cut buffer replaces a split character with U+FFFD; drop it.
  return buffer
    .subarray(0, bytes)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
}

function cut(value: string | undefined): string | undefined {
  return value ? value.slice(0, CUSTOMER_FIELD) : undefined;
}

function strip(value: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== '')) as Record<
    string,
    string
  >;
}
