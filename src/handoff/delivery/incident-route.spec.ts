import {
  ANONYMOUS_LASTNAME,
  contactBody,
  contactIdFor,
  incidentBody,
  incidentDescription,
  incidentTitle,
  LIMITS,
  notePartId,
  odataString,
  priorityCode,
  splitName,
  transcriptNotes,
} from './incident-route.js';
import type { HandoffRequest } from '../handoff.types.js';

const base: HandoffRequest = { session_id: 's1', channel: 'email' };
const settings = { defaultPriority: 2, defaultOwnerId: null, defaultQueueId: null, ticketProperties: {} };

describe('incident route mapping', () => {
  it('splits names at the first space; one word is the last name; each cut to 50', () => {
    expect(splitName('Ada Lovelace')).toEqual({ firstname: 'Ada', lastname: 'Lovelace' });
    expect(splitName('  Ada   King  Lovelace ')).toEqual({ firstname: 'Ada', lastname: 'King Lovelace' });
    expect(splitName('Prince')).toEqual({ lastname: 'Prince' });
    expect(splitName(undefined)).toEqual({});
    expect(splitName(`${'a'.repeat(60)} ${'b'.repeat(60)}`)).toEqual({
      firstname: 'a'.repeat(LIMITS.firstname),
      lastname: 'b'.repeat(LIMITS.lastname),
    });
  });

  it('derives contact ids from org and lower-cased email, else phone; the same every time', () => {
    const a = contactIdFor('acme', { email: 'Ada@Example.com' });
    expect(a).toBe(contactIdFor('acme', { email: ' ada@example.com' }));
    expect(a).not.toBe(contactIdFor('other', { email: 'ada@example.com' }));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(contactIdFor('acme', { phone: '+1 555' })).not.toBe(contactIdFor('acme', { phone: '+1 556' }));
    expect(contactIdFor('acme', 'anonymous')).toBe(contactIdFor('acme', 'anonymous'));
    expect(contactIdFor('acme', 'anonymous')).not.toBe(contactIdFor('acme', { email: 'anonymous' }));
    expect(notePartId('9f1c5b2e-0000-4000-8000-000000000001', 1)).toBe(
      '9f1c5b2e-0000-4000-8000-000000000001',
    );
    expect(notePartId('9f1c5b2e-0000-4000-8000-000000000001', 2)).not.toBe(
      notePartId('9f1c5b2e-0000-4000-8000-000000000001', 3),
    );
  });

  it('builds the contact: name or a stand-in, email, phone, the session marker', () => {
    expect(contactBody({ ...base, customer: { email: 'a@b.example' } })).toEqual({
      lastname: 'a@b.example',
      emailaddress1: 'a@b.example',
      description: 'Created from chat session s1',
    });
    expect(contactBody({ ...base, customer: { name: 'Ada Lovelace', phone: '+44 1' } })).toEqual({
      firstname: 'Ada',
      lastname: 'Lovelace',
      mobilephone: '+44 1',
      description: 'Created from chat session s1',
    });
    expect(ANONYMOUS_LASTNAME).toBe('Anonymous customer');
  });

  it('maps priority 1 High, 2 Normal, 3 and 4 Low', () => {
    expect([1, 2, 3, 4].map(priorityCode)).toEqual([1, 2, 3, 3]);
  });

  it('titles the case by classification and customer, cut to 200', () => {
    expect(incidentTitle(base)).toBe('Support - Anonymous');
    expect(incidentTitle({ ...base, customer: { phone: '+1 555' } })).toBe('Support - +1 555');
    expect(incidentTitle({ ...base, classification: 'Billing', customer: { email: 'e@x.example' } })).toBe(
      'Billing - e@x.example',
    );
    expect(
      incidentTitle({ ...base, classification: 'c'.repeat(100), customer: { name: 'n'.repeat(200) } }),
    ).toHaveLength(LIMITS.title);
  });

  it('puts the connector columns after ticket_properties, binds customer and owner, routecase only with a queue', () => {
    const body = incidentBody(base, 'c0000000-0000-4000-8000-000000000001', {
      defaultPriority: 1,
      defaultOwnerId: 'c0000000-0000-4000-8000-000000000002',
      defaultQueueId: 'c0000000-0000-4000-8000-000000000003',
      ticketProperties: { casetypecode: 1, new_x: 'y' },
    });
    expect(Object.keys(body).slice(0, 2)).toEqual(['casetypecode', 'new_x']);
    expect(body).toMatchObject({
      prioritycode: 1,
      caseorigincode: 2,
      'customerid_contact@odata.bind': '/contacts(c0000000-0000-4000-8000-000000000001)',
      'ownerid@odata.bind': '/systemusers(c0000000-0000-4000-8000-000000000002)',
      routecase: false,
    });
    const plain = incidentBody(
      { ...base, channel: 'slack' },
      'c0000000-0000-4000-8000-000000000001',
      settings,
    );
    expect(plain).not.toHaveProperty('routecase');
    expect(plain).not.toHaveProperty('ownerid@odata.bind');
    expect(plain).not.toHaveProperty('caseorigincode');
  });

  it('cuts the description at 2,000 with a marker, never inside a surrogate pair', () => {
    const transcript = [{ role: 'customer' as const, text: '😀'.repeat(2000), at: '2026-11-30T09:00:00Z' }];
    const description = incidentDescription({ ...base, transcript });
    expect(description.length).toBeLessThanOrEqual(LIMITS.description);
    expect(description).toMatch(/cut here/);
    expect(() => encodeURIComponent(description)).not.toThrow();
    expect(incidentDescription(base)).toBe(
      'Channel: email\nSummary: -\nClassification: -\nSentiment: -\nCustomer: Anonymous',
    );
  });

  it('splits the transcript into notes of at most 100,000 at line ends, a longer line across parts', () => {
    expect(transcriptNotes(base)).toEqual([]);
    const line = (n: number, size: number) => ({
      role: 'ai' as const,
      text: `${n}`.padEnd(size, '.'),
      at: 't',
    });
    const notes = transcriptNotes({
      ...base,
      transcript: [line(1, 60_000), line(2, 60_000), line(3, 150_000)],
    });
    expect(notes.map((n) => n.notetext.length <= LIMITS.notetext)).toEqual([true, true, true, true]);
    expect(notes[0].notetext.startsWith('[t] AI: 1')).toBe(true);
    expect(notes[1].notetext.startsWith('[t] AI: 2')).toBe(true);
    expect(notes.map((n) => n.subject)).toEqual([
      'Conversation transcript (part 1 of 4)',
      'Conversation transcript (part 2 of 4)',
      'Conversation transcript (part 3 of 4)',
      'Conversation transcript (part 4 of 4)',
    ]);
    expect(notes.map((n) => n.notetext).join('\n').length).toBe(60_008 + 60_008 + 150_008 + 3);
  });

  it('escapes OData string literals by doubling single quotes', () => {
    expect(odataString("o'brien@example.com")).toBe("'o''brien@example.com'");
  });
});
