// What the incident route writes into Dataverse, as plain functions of the handoff and the org's
// settings: the ids of the records (chosen before the first attempt, so every attempt writes the
// same ones), the contact, the case and the transcript notes. No I/O here; the delivery sends it.
import { v5 as uuidv5 } from 'uuid';
import type { HandoffChannel, HandoffRequest, TranscriptEntry } from '../handoff.types.js';

/** Namespace of every id this service derives (UUIDv5); fixed forever, or ids would change. */
const ID_NAMESPACE = '5d0b7c1e-8f43-4a6e-9c25-3b1f0e7a9d64';

/** Dataverse column limits the connector writes within. */
export const LIMITS = {
  title: 200,
  description: 2000,
  firstname: 50,
  lastname: 50,
  emailaddress1: 100,
  mobilephone: 50,
  /** annotation.notetext: 100,000 characters by default. */
  notetext: 100_000,
} as const;

export const ANONYMOUS_LASTNAME = 'Anonymous customer';
const NOTE_SUBJECT = 'Conversation transcript';
const TRUNCATED = '\n… [cut here: the whole transcript is in the note "Conversation transcript"]';

/** The id of the contact created for an email or phone of this org (the same every attempt and every handoff). */
export function contactIdFor(orgId: string, key: { email?: string; phone?: string } | 'anonymous'): string {
  const name =
    key === 'anonymous'
      ? `${orgId}\ncontact\nanonymous`
      : key.email
        ? `${orgId}\ncontact\nemail\n${key.email.trim().toLowerCase()}`
        : `${orgId}\ncontact\nphone\n${(key.phone ?? '').trim()}`;
  return uuidv5(name, ID_NAMESPACE);
}

/** Part k (1-based) of the transcript note: the first is the note id itself. */
export function notePartId(noteId: string, part: number): string {
  return part === 1 ? noteId : uuidv5(`${noteId}\npart\n${part}`, ID_NAMESPACE);
}

/** Marks a contact as made by this handoff, so a retry whose create answer was lost can tell. */
export function contactMarker(sessionId: string): string {
  return `Created from chat session ${sessionId}`;
}

/** Firstname and lastname split at the first space; one word is the last name. */
export function splitName(name: string | undefined): { firstname?: string; lastname?: string } {
  const trimmed = name?.trim().replace(/\s+/g, ' ');
  if (!trimmed) return {};
  const space = trimmed.indexOf(' ');
  if (space < 0) return { lastname: cut(trimmed, LIMITS.lastname) };
  return {
    firstname: cut(trimmed.slice(0, space), LIMITS.firstname),
    lastname: cut(trimmed.slice(space + 1), LIMITS.lastname),
  };
}

export function contactBody(request: HandoffRequest): Record<string, unknown> {
  const customer = request.customer ?? {};
  const { firstname, lastname } = splitName(customer.name);
  return {
    ...(firstname ? { firstname } : {}),
    // A contact needs a name to show; without one, the email or phone stands in.
    lastname: lastname ?? cut(customer.email ?? customer.phone ?? 'Customer', LIMITS.lastname),
    ...(customer.email ? { emailaddress1: customer.email.trim() } : {}),
    ...(customer.phone ? { mobilephone: customer.phone.trim() } : {}),
    description: contactMarker(request.session_id),
  };
}

export function anonymousContactBody(): Record<string, unknown> {
  return {
    lastname: ANONYMOUS_LASTNAME,
    description:
      'Customer of handoffs without an email or phone number (created by the Dynamics 365 connector).',
  };
}

/** Case origin: only the channels Dataverse has a value for (1 Phone, 2 Email, 3 Web). */
const ORIGIN: Partial<Record<HandoffChannel, number>> = {
  email: 2,
  phone_voice: 1,
  web_voice: 1,
  web: 3,
};

/** Settings priority 1 High, 2 Normal, 3 and 4 Low → prioritycode 1, 2, 3. */
export function priorityCode(defaultPriority: number): number {
  return Math.min(Math.max(defaultPriority, 1), 3);
}

export interface CaseSettings {
  defaultPriority: number;
  defaultOwnerId: string | null;
  defaultQueueId: string | null;
  ticketProperties: Record<string, unknown>;
}

export function incidentBody(
  request: HandoffRequest,
  contactId: string,
  settings: CaseSettings,
): Record<string, unknown> {
  const origin = ORIGIN[request.channel];
  return {
    // The admin's extra columns first: nothing below can be overridden by them (checked at save).
    ...settings.ticketProperties,
    title: incidentTitle(request),
    description: incidentDescription(request),
    prioritycode: priorityCode(settings.defaultPriority),
    ...(origin !== undefined ? { caseorigincode: origin } : {}),
    'customerid_contact@odata.bind': `/contacts(${contactId})`,
    ...(settings.defaultOwnerId ? { 'ownerid@odata.bind': `/systemusers(${settings.defaultOwnerId})` } : {}),
    // With a queue the connector queues the case itself; unified routing must not route it too.
    ...(settings.defaultQueueId ? { routecase: false } : {}),
  };
}

export function incidentTitle(request: HandoffRequest): string {
  const customer = request.customer ?? {};
  const who = customer.name?.trim() || customer.email || customer.phone || 'Anonymous';
  return cut(`${request.classification ?? 'Support'} - ${who}`, LIMITS.title);
}

function headerLines(request: HandoffRequest): string[] {
  const customer = request.customer ?? {};
  const who = [customer.name, customer.email, customer.phone].filter(Boolean).join(', ');
  return [
    `Channel: ${request.channel}`,
    `Summary: ${request.summary ?? '-'}`,
    `Classification: ${request.classification ?? '-'}`,
    `Sentiment: ${request.sentiment ?? '-'}`,
    `Customer: ${who || 'Anonymous'}`,
  ];
}

export function transcriptLines(transcript: TranscriptEntry[] | undefined): string[] {
  return (transcript ?? []).map((entry) => `[${entry.at}] ${ROLE_NAMES[entry.role]}: ${entry.text}`);
}

const ROLE_NAMES: Record<TranscriptEntry['role'], string> = {
  customer: 'Customer',
  ai: 'AI',
  agent: 'Agent',
  system: 'System',
};

/** Header lines and the transcript, cut to the column's 2,000 characters with a marker. */
export function incidentDescription(request: HandoffRequest): string {
  const lines = headerLines(request);
  const transcript = transcriptLines(request.transcript);
  const whole = [...lines, ...(transcript.length ? ['', 'Transcript:', ...transcript] : [])].join('\n');
  if (whole.length <= LIMITS.description) return whole;
  return `${cutCodePoints(whole, LIMITS.description - TRUNCATED.length)}${TRUNCATED}`;
}

/**
 * The transcript notes: the whole transcript in parts of at most 100,000 characters (split at
 * line ends where possible). None without a transcript.
 */
export function transcriptNotes(request: HandoffRequest): { subject: string; notetext: string }[] {
  const lines = transcriptLines(request.transcript);
  if (lines.length === 0) return [];
  const parts: string[] = [];
  let current = '';
  for (const line of lines) {
    let rest = line;
    while (rest.length > 0) {
      const room = LIMITS.notetext - current.length - (current ? 1 : 0);
      if (rest.length <= room) {
        current = current ? `${current}\n${rest}` : rest;
        rest = '';
      } else if (current) {
        parts.push(current);
        current = '';
      } else {
        const head = cutCodePoints(rest, LIMITS.notetext);
        parts.push(head);
        rest = rest.slice(head.length);
      }
    }
  }
  if (current) parts.push(current);
  return parts.map((notetext, i) => ({
    subject: parts.length === 1 ? NOTE_SUBJECT : `${NOTE_SUBJECT} (part ${i + 1} of ${parts.length})`,
    notetext,
  }));
}

/** At most `max` UTF-16 units, never splitting a surrogate pair. */
function cutCodePoints(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return text.slice(0, end);
}

function cut(text: string, max: number): string {
  return cutCodePoints(text.trim(), max);
}

/** An OData string literal: single quotes doubled. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
