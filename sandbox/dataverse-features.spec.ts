import { randomUUID } from 'node:crypto';
import { startWorld, World } from './testing.js';

/** What handoff delivery and ordinary clients need of Dataverse, and the rule that nothing is silently ignored. */
describe('Dataverse Web API: records, queues, queries', () => {
  let w: World;
  let token: string;
  let contactId: string;
  const base = () => `${w.environment.origin}/api/data/v9.2/`;
  const api = (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set('accept', 'application/json');
    headers.set('odata-maxversion', '4.0');
    headers.set('odata-version', '4.0');
    headers.set('authorization', `Bearer ${token}`);
    if (init.body !== undefined && !headers.has('content-type'))
      headers.set('content-type', 'application/json');
    return fetch(`${base()}${path}`, { ...init, headers });
  };
  const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    api(path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers });
  const error = async (response: Response, status: number, code: string) => {
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect([response.status, body.error.code]).toEqual([status, code]);
    return body.error.message;
  };
  const incident = (extra: Record<string, unknown> = {}) => ({
    title: 'Printer on fire',
    'customerid_contact@odata.bind': `/contacts(${contactId})`,
    ...extra,
  });

  beforeAll(async () => {
    w = await startWorld();
    token = await w.accessToken();
    contactId = randomUUID();
    const created = await send('PATCH', `contacts(${contactId})`, { firstname: 'Ada', lastname: 'Lovelace' });
    expect(created.status).toBe(204);
  });
  afterAll(() => w.sandbox.close());

  describe('PATCH, upsert and DELETE', () => {
    it('creates with PATCH + If-None-Match: * and answers 412 0x80040237 the second time', async () => {
      const id = randomUUID();
      const first = await send('PATCH', `incidents(${id})`, incident(), { 'if-none-match': '*' });
      expect(first.status).toBe(204);
      expect(first.headers.get('odata-entityid')).toBe(`${base()}incidents(${id})`);
      const again = await send('PATCH', `incidents(${id})`, incident({ title: 'Other' }), {
        'if-none-match': '*',
      });
      expect(await error(again, 412, '0x80040237')).toBe('A record with matching key values already exists.');
      const read = (await (await api(`incidents(${id})?$select=title,ticketnumber`)).json()) as Record<
        string,
        string
      >;
      expect(read.title).toBe('Printer on fire');
      expect(w.sandbox.model.environment('contoso').creates.incidents).toBeGreaterThanOrEqual(1);
    });

    it('returns the created record with return=representation (201) and an updated one (200)', async () => {
      const id = randomUUID();
      const created = await send('PATCH', `incidents(${id})?$select=incidentid,ticketnumber`, incident(), {
        'if-none-match': '*',
        prefer: 'return=representation',
      });
      expect(created.status).toBe(201);
      expect(await created.json()).toMatchObject({
        incidentid: id,
        ticketnumber: expect.stringMatching(/^CAS-/),
      });
      const updated = await send(
        'PATCH',
        `incidents(${id})?$select=title`,
        { title: 'Renamed' },
        { prefer: 'return=representation' },
      );
      expect([updated.status, ((await updated.json()) as { title: string }).title]).toEqual([200, 'Renamed']);
    });

    it('If-Match: * updates only; If-Match with a stale etag is 412', async () => {
      const missing = randomUUID();
      await error(
        await send('PATCH', `incidents(${missing})`, { title: 'x' }, { 'if-match': '*' }),
        404,
        '0x80040217',
      );
      const id = randomUUID();
      await send('PATCH', `incidents(${id})`, incident());
      const etag = ((await (await api(`incidents(${id})?$select=title`)).json()) as Record<string, string>)[
        '@odata.etag'
      ];
      expect((await send('PATCH', `incidents(${id})`, { title: 'v2' }, { 'if-match': etag })).status).toBe(
        204,
      );
      expect(
        await error(
          await send('PATCH', `incidents(${id})`, { title: 'v3' }, { 'if-match': etag }),
          412,
          '0x80060882',
        ),
      ).toMatch(/RowVersion/);
    });

    it('deletes, honouring If-Match, and 404s afterwards', async () => {
      const id = randomUUID();
      await send('PATCH', `incidents(${id})`, incident());
      await error(
        await send('DELETE', `incidents(${id})`, undefined, { 'if-match': 'W/"1"' }),
        412,
        '0x80060882',
      );
      expect((await send('DELETE', `incidents(${id})`)).status).toBe(204);
      await error(await api(`incidents(${id})`), 404, '0x80040217');
      await error(await send('DELETE', `incidents(${id})`), 404, '0x80040217');
    });
  });

  describe('validation on create and update', () => {
    it.each([
      [
        'a title over 200 characters',
        { title: 't'.repeat(201) },
        /length of the 'title' attribute of the 'incident' entity exceeded the maximum allowed length of '200'/,
      ],
      ['a description over 2,000 characters', { description: 'd'.repeat(2001) }, /'description'.*'2000'/],
    ])('%s → 400 0x80044331', async (_, extra, message) => {
      expect(await error(await send('POST', 'incidents', incident(extra)), 400, '0x80044331')).toMatch(
        message,
      );
    });

    it.each([
      ['firstname', 51],
      ['lastname', 51],
      ['emailaddress1', 101],
      ['mobilephone', 51],
    ])('contact %s over its maximum → 400 0x80044331', async (column, length) => {
      await error(
        await send('POST', 'contacts', { lastname: 'L', [column]: 'x'.repeat(length) }),
        400,
        '0x80044331',
      );
    });

    it('a case needs a customer (0x80044410), not a contact and an account (0x8004440f)', async () => {
      expect(await error(await send('POST', 'incidents', { title: 'x' }), 400, '0x80044410')).toBe(
        'You should specify a parent contact or account.',
      );
      const accountId = randomUUID();
      expect((await send('PATCH', `accounts(${accountId})`, { name: 'Contoso Ltd' })).status).toBe(204);
      await error(
        await send(
          'POST',
          'incidents',
          incident({ 'customerid_account@odata.bind': `/accounts(${accountId})` }),
        ),
        400,
        '0x8004440f',
      );
      const forAccount = await send('POST', 'incidents', {
        title: 'For an account',
        'customerid_account@odata.bind': `/accounts(${accountId})`,
      });
      expect(forAccount.status).toBe(204);
    });

    it('refuses unknown columns (0x80060891), wrong types and option values, binds to missing records (404)', async () => {
      expect(
        await error(await send('POST', 'incidents', incident({ shoesize: 44 })), 400, '0x80060891'),
      ).toBe("Invalid property 'shoesize' was found in entity 'Microsoft.Dynamics.CRM.incident'.");
      await error(await send('POST', 'incidents', incident({ ticketnumber: 'CAS-1' })), 400, '0x80060891');
      await error(await send('POST', 'incidents', incident({ prioritycode: 'High' })), 400, '0x80060888');
      expect(
        await error(await send('POST', 'incidents', incident({ prioritycode: 9 })), 400, '0x80044331'),
      ).toMatch(/outside the valid range/);
      const missing = randomUUID();
      expect(
        await error(
          await send('POST', 'incidents', incident({ 'ownerid@odata.bind': `/systemusers(${missing})` })),
          404,
          '0x80040217',
        ),
      ).toBe(`systemuser With Id = ${missing} Does Not Exist`);
    });

    it('creates a note on a case with objectid_incident@odata.bind', async () => {
      const caseId = randomUUID();
      await send('PATCH', `incidents(${caseId})`, incident());
      const noteId = randomUUID();
      const note = await send(
        'PATCH',
        `annotations(${noteId})`,
        {
          subject: 'Conversation transcript',
          notetext: 'x'.repeat(50_000),
          'objectid_incident@odata.bind': `/incidents(${caseId})`,
        },
        { 'if-none-match': '*' },
      );
      expect(note.status).toBe(204);
      const read = (await (
        await api(`annotations(${noteId})?$select=subject,_objectid_value,objecttypecode`)
      ).json()) as Record<string, string>;
      expect(read).toMatchObject({ _objectid_value: caseId, objecttypecode: 'incident' });
    });
  });

  describe('queues', () => {
    let queueId: string;
    beforeAll(() => {
      queueId = randomUUID();
      w.sandbox.model
        .environment('contoso')
        .records.queues.set(queueId, { id: queueId, version: 1, attributes: { name: 'Support' } });
    });
    const addToQueue = (queue: string, caseId: string) =>
      send('POST', `queues(${queue})/Microsoft.Dynamics.CRM.AddToQueue`, {
        Target: { incidentid: caseId, '@odata.type': 'Microsoft.Dynamics.CRM.incident' },
      });

    it('adds a case to a queue, moves it on a second call, and shows the queue item', async () => {
      const caseId = randomUUID();
      await send('PATCH', `incidents(${caseId})`, incident({ routecase: false }));
      const added = await addToQueue(queueId, caseId);
      expect(added.status).toBe(200);
      const { QueueItemId, ...rest } = (await added.json()) as Record<string, string>;
      expect(rest['@odata.context']).toBe(`${base()}$metadata#Microsoft.Dynamics.CRM.AddToQueueResponse`);
      const other = randomUUID();
      w.sandbox.model
        .environment('contoso')
        .records.queues.set(other, { id: other, version: 1, attributes: { name: 'Tier 2' } });
      const moved = (await (await addToQueue(other, caseId)).json()) as Record<string, string>;
      expect(moved.QueueItemId).toBe(QueueItemId);
      const items = (await (await api(`queueitems?$filter=_objectid_value eq ${caseId}`)).json()) as {
        value: Record<string, unknown>[];
      };
      expect(items.value).toHaveLength(1);
      expect(items.value[0]).toMatchObject({
        queueitemid: QueueItemId,
        _queueid_value: other,
        objecttypecode: 112,
      });
      const stored = (await (await api(`incidents(${caseId})?$select=routecase`)).json()) as Record<
        string,
        unknown
      >;
      expect(stored.routecase).toBe(false);
    });

    it('404 0x80040217 for a missing queue; 403 naming the queue privileges', async () => {
      const caseId = randomUUID();
      await send('PATCH', `incidents(${caseId})`, incident());
      const missing = randomUUID();
      expect(await error(await addToQueue(missing, caseId), 404, '0x80040217')).toBe(
        `queue With Id = ${missing} Does Not Exist`,
      );
      const app = w.sandbox.model.createApp(w.tenant.id);
      const secret = w.sandbox.model.addSecret(w.tenant.id, app.clientId);
      w.sandbox.model.addApplicationUser('contoso', {
        clientId: app.clientId,
        privileges: ['prvReadIncident', 'prvReadQueue'],
      });
      const limited = await w.requestToken({ client_id: app.clientId, client_secret: secret.value });
      const limitedToken = ((await limited.json()) as { access_token: string }).access_token;
      const denied = await fetch(`${base()}queues(${queueId})/Microsoft.Dynamics.CRM.AddToQueue`, {
        method: 'POST',
        headers: { authorization: `Bearer ${limitedToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          Target: { incidentid: caseId, '@odata.type': 'Microsoft.Dynamics.CRM.incident' },
        }),
      });
      expect(await error(denied, 403, '0x80040220')).toMatch(/is missing prvAppendToQueue privilege/);
      w.sandbox.model.applicationUser('contoso', app.clientId).privileges = new Set([
        'prvReadIncident',
        'prvReadQueue',
        'prvAppendToQueue',
      ]);
      const again = await fetch(`${base()}queues(${queueId})/Microsoft.Dynamics.CRM.AddToQueue`, {
        method: 'POST',
        headers: { authorization: `Bearer ${limitedToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          Target: { incidentid: caseId, '@odata.type': 'Microsoft.Dynamics.CRM.incident' },
        }),
      });
      expect(await error(again, 403, '0x80040220')).toMatch(/is missing prvCreateQueueItem privilege/);
    });
  });

  describe('security: depth, ownership, privileges', () => {
    const limitedApp = async (privileges: string[], depths: Record<string, 'Basic' | 'Global'> = {}) => {
      const app = w.sandbox.model.createApp(w.tenant.id);
      const secret = w.sandbox.model.addSecret(w.tenant.id, app.clientId);
      const user = w.sandbox.model.addApplicationUser('contoso', {
        clientId: app.clientId,
        privileges,
        depths,
      });
      const answer = await w.requestToken({ client_id: app.clientId, client_secret: secret.value });
      const bearer = ((await answer.json()) as { access_token: string }).access_token;
      const call = (method: string, path: string, body?: unknown) =>
        fetch(`${base()}${path}`, {
          method,
          headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      return { user, call };
    };

    it('Read at User (Basic) depth sees only the records the user owns', async () => {
      const { user, call } = await limitedApp(['prvReadContact', 'prvCreateContact'], {
        prvReadContact: 'Basic',
      });
      const mine = randomUUID();
      expect(
        (await call('PATCH', `contacts(${mine})`, { lastname: 'Mine', emailaddress1: 'depth@example.com' }))
          .status,
      ).toBe(204);
      const theirs = randomUUID();
      await send('PATCH', `contacts(${theirs})`, { lastname: 'Theirs', emailaddress1: 'depth@example.com' });
      const listed = (await (
        await call('GET', `contacts?$select=lastname&$filter=emailaddress1 eq 'depth@example.com'`)
      ).json()) as {
        value: { contactid: string }[];
      };
      expect(listed.value.map((c) => c.contactid)).toEqual([mine]);
      expect(
        await error(await call('GET', `contacts(${theirs})?$select=lastname`), 403, '0x80040220'),
      ).toMatch(
        new RegExp(
          `^Principal user \\(Id=${user.systemUserId}.*is missing prvReadContact privilege.*record ${theirs}`,
        ),
      );
      const read = await call('GET', `contacts(${mine})?$select=lastname`);
      expect(read.status).toBe(200);
    });

    it('owning a record is assigning it: Assign on the table, and an enabled owner', async () => {
      const { call } = await limitedApp([
        'prvCreateIncident',
        'prvAppendIncident',
        'prvAppendToContact',
        'prvReadIncident',
      ]);
      const owner = randomUUID();
      const environment = w.sandbox.model.environment('contoso');
      environment.records.systemusers.set(owner, {
        id: owner,
        version: 1,
        attributes: { systemuserid: owner, fullname: 'Owner', isdisabled: false },
      });
      const assigned = await call(
        'PATCH',
        `incidents(${randomUUID()})`,
        incident({ 'ownerid@odata.bind': `/systemusers(${owner})` }),
      );
      expect(await error(assigned, 403, '0x80040220')).toMatch(/is missing prvAssignIncident privilege/);
      environment.records.systemusers.get(owner)!.attributes.isdisabled = true;
      const disabled = await send(
        'PATCH',
        `incidents(${randomUUID()})`,
        incident({ 'ownerid@odata.bind': `/systemusers(${owner})` }),
      );
      expect(await error(disabled, 400, '0x80040225')).toBe(
        `The user with SystemUserId=${owner} in OrganizationContext=${environment.organizationId} is disabled.`,
      );
    });

    it('reads workstreams and queue states', async () => {
      const environment = w.sandbox.model.environment('contoso');
      const workstream = randomUUID();
      environment.records.msdyn_liveworkstreams.set(workstream, {
        id: workstream,
        version: 1,
        attributes: { msdyn_name: 'Chat', statecode: 0 },
      });
      const read = (await (
        await api(`msdyn_liveworkstreams(${workstream})?$select=msdyn_name,statecode`)
      ).json()) as Record<string, unknown>;
      expect(read).toMatchObject({ msdyn_liveworkstreamid: workstream, msdyn_name: 'Chat', statecode: 0 });
    });
  });

  describe('what changes behaviour is simulated or refused, never ignored', () => {
    it('impersonation and duplicate detection headers are a loud 501', async () => {
      for (const header of ['CallerObjectId', 'MSCRMCallerID']) {
        const answer = await api('contacts?$top=1', { headers: { [header]: randomUUID() } });
        expect(await error(answer, 501, '0x80060888')).toBe(
          `The sandbox does not simulate impersonation (the ${header} header).`,
        );
      }
      const detect = await send(
        'POST',
        'contacts',
        { lastname: 'Dup' },
        { 'MSCRM.SuppressDuplicateDetection': 'false' },
      );
      expect(await error(detect, 501, '0x80060888')).toMatch(/duplicate detection/);
      const suppressed = await send(
        'POST',
        'contacts',
        { lastname: 'Dup' },
        { 'MSCRM.SuppressDuplicateDetection': 'true' },
      );
      expect(suppressed.status).toBe(204);
    });

    it("AddToQueue's SourceQueue and QueueItemProperties are a loud 501", async () => {
      const queue = randomUUID();
      w.sandbox.model
        .environment('contoso')
        .records.queues.set(queue, { id: queue, version: 1, attributes: { name: 'Q' } });
      const caseId = randomUUID();
      await send('PATCH', `incidents(${caseId})`, incident());
      const target = { incidentid: caseId, '@odata.type': 'Microsoft.Dynamics.CRM.incident' };
      for (const extra of [
        { SourceQueue: { queueid: randomUUID(), '@odata.type': 'Microsoft.Dynamics.CRM.queue' } },
        { QueueItemProperties: { '@odata.type': 'Microsoft.Dynamics.CRM.queueitem', title: 'x' } },
      ]) {
        const answer = await send('POST', `queues(${queue})/Microsoft.Dynamics.CRM.AddToQueue`, {
          Target: target,
          ...extra,
        });
        expect(await error(answer, 501, '0x80060888')).toContain(Object.keys(extra)[0]);
      }
    });

    it('contains, startswith and endswith read % _ [ ] as wildcards, as SQL LIKE does', async () => {
      const tag = randomUUID().slice(0, 6);
      for (const lastname of [`${tag}A%B`, `${tag}AxB`, `${tag}A_B`, `${tag}Q`]) {
        await send('POST', 'contacts', { lastname });
      }
      const names = async (filter: string) =>
        (
          (await (
            await api(`contacts?$select=lastname&$filter=${encodeURIComponent(filter)}&$orderby=lastname`)
          ).json()) as {
            value: { lastname: string }[];
          }
        ).value.map((c) => c.lastname.slice(tag.length));
      expect(await names(`startswith(lastname,'${tag}A%B')`)).toEqual(['A%B', 'A_B', 'AxB']);
      expect(await names(`startswith(lastname,'${tag}A_B')`)).toEqual(['A%B', 'A_B', 'AxB']);
      expect(await names(`contains(lastname,'${tag}A[%]B')`)).toEqual(['A%B']);
      expect(await names(`contains(lastname,'${tag}A[_]B')`)).toEqual(['A_B']);
      expect(await names(`startswith(lastname,'${tag}[AQ]')`)).toEqual(['A%B', 'A_B', 'AxB', 'Q']);
      expect(await names(`startswith(lastname,'${tag}[^A]')`)).toEqual(['Q']);
      expect(await names(`endswith(lastname,'x_')`)).toEqual(['AxB']);
    });

    it('a team can own a record, and the 9.0 and 9.1 Web API versions answer as 9.2', async () => {
      const team = randomUUID();
      w.sandbox.model.environment('contoso').records.teams.set(team, {
        id: team,
        version: 1,
        attributes: { teamid: team, name: 'Tier 2', teamtype: 0 },
      });
      const caseId = randomUUID();
      expect(
        (await send('PATCH', `incidents(${caseId})`, incident({ 'ownerid@odata.bind': `/teams(${team})` })))
          .status,
      ).toBe(204);
      const read = await api(`incidents(${caseId})?$select=_ownerid_value`, {
        headers: { prefer: 'odata.include-annotations="*"' },
      });
      expect(await read.json()).toMatchObject({
        _ownerid_value: team,
        '_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname': 'team',
        '_ownerid_value@OData.Community.Display.V1.FormattedValue': 'Tier 2',
      });
      for (const version of ['v9.0', 'v9.1']) {
        const older = await fetch(
          `${w.environment.origin}/api/data/${version}/incidents(${caseId})?$select=title`,
          {
            headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
          },
        );
        expect([version, older.status]).toEqual([version, 200]);
      }
    });
  });

  describe('queries', () => {
    const tag = randomUUID().slice(0, 8);
    beforeAll(async () => {
      for (const [i, priority] of [3, 1, 2, 1, 3].entries()) {
        const response = await send(
          'POST',
          'incidents',
          incident({
            title: `${tag} case ${i}`,
            prioritycode: priority,
            followupby: `2026-0${i + 1}-15T00:00:00Z`,
          }),
        );
        expect(response.status).toBe(204);
      }
    });
    const titles = async (query: string, headers: Record<string, string> = {}) => {
      const response = await api(`incidents?$select=title&$filter=startswith(title,'${tag}')${query}`, {
        headers,
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as { value: { title: string }[] }).value.map((r) => r.title.slice(-1));
    };

    it('orders by several keys, ascending and descending', async () => {
      expect(await titles('&$orderby=prioritycode asc,title desc')).toEqual(['3', '1', '2', '4', '0']);
      expect(await titles('&$orderby=title desc')).toEqual(['4', '3', '2', '1', '0']);
    });

    it('compares numbers and dates with gt, ge, lt, le, and negates with not', async () => {
      expect(await titles(' and prioritycode gt 1&$orderby=title')).toEqual(['0', '2', '4']);
      expect(await titles(' and prioritycode le 2&$orderby=title')).toEqual(['1', '2', '3']);
      expect(await titles(' and followupby ge 2026-03-01T00:00:00Z&$orderby=title')).toEqual(['2', '3', '4']);
      expect(await titles(' and followupby lt 2026-02-15&$orderby=title')).toEqual(['0']);
      expect(await titles(' and not (prioritycode eq 3)&$orderby=title')).toEqual(['1', '2', '3']);
    });

    it('pages with odata.maxpagesize: @odata.nextLink with a $skiptoken, Preference-Applied', async () => {
      const seen: string[] = [];
      let url = `${base()}incidents?$select=title&$filter=startswith(title,'${tag}')&$orderby=title`;
      for (let page = 0; page < 5 && url; page++) {
        const response = await fetch(url, {
          headers: { authorization: `Bearer ${token}`, prefer: 'odata.maxpagesize=2' },
        });
        expect(response.headers.get('preference-applied')).toBe('odata.maxpagesize=2');
        const body = (await response.json()) as { value: { title: string }[]; '@odata.nextLink'?: string };
        seen.push(...body.value.map((r) => r.title.slice(-1)));
        if (body['@odata.nextLink'])
          expect(body['@odata.nextLink']).toMatch(/\$skiptoken=%3Ccookie%20pagenumber%3D%22\d%22/);
        url = body['@odata.nextLink'] ?? '';
      }
      expect(seen).toEqual(['0', '1', '2', '3', '4']);
    });

    it('counts: $count=true and the /$count segment', async () => {
      const counted = (await (
        await api(`incidents?$select=title&$filter=startswith(title,'${tag}')&$count=true&$top=1`)
      ).json()) as Record<string, unknown>;
      expect(counted['@odata.count']).toBe(5);
      const plain = await api(`incidents/$count?$filter=startswith(title,'${tag}')`);
      expect([plain.status, plain.headers.get('content-type'), await plain.text()]).toEqual([
        200,
        'text/plain; charset=utf-8',
        '5',
      ]);
    });

    it('expands a single-valued navigation property, on a record and on a collection', async () => {
      const id = randomUUID();
      await send('PATCH', `incidents(${id})`, incident());
      const one = (await (
        await api(`incidents(${id})?$select=title&$expand=customerid_contact($select=fullname)`)
      ).json()) as Record<string, any>;
      expect(one.customerid_contact).toMatchObject({ contactid: contactId, fullname: 'Ada Lovelace' });
      expect(one['@odata.context']).toMatch(/#incidents\(title,customerid_contact\(fullname\)\)\/\$entity$/);
      const many = (await (
        await api(`incidents?$select=title&$expand=customerid_account&$top=1`)
      ).json()) as { value: Record<string, unknown>[] };
      expect(many.value[0]).toHaveProperty('customerid_account', null);
    });

    it('annotates option sets and lookups when asked to (include-annotations)', async () => {
      const id = randomUUID();
      await send('PATCH', `incidents(${id})`, incident({ prioritycode: 1, caseorigincode: 3 }));
      const response = await api(`incidents(${id})?$select=prioritycode,caseorigincode,_customerid_value`, {
        headers: { prefer: 'odata.include-annotations="*"' },
      });
      expect(await response.json()).toMatchObject({
        prioritycode: 1,
        'prioritycode@OData.Community.Display.V1.FormattedValue': 'High',
        'caseorigincode@OData.Community.Display.V1.FormattedValue': 'Web',
        _customerid_value: contactId,
        '_customerid_value@OData.Community.Display.V1.FormattedValue': 'Ada Lovelace',
        '_customerid_value@Microsoft.Dynamics.CRM.lookuplogicalname': 'contact',
        '_customerid_value@Microsoft.Dynamics.CRM.associatednavigationproperty': 'customerid_contact',
      });
      const plain = (await (await api(`incidents(${id})?$select=prioritycode`)).json()) as Record<
        string,
        unknown
      >;
      expect(Object.keys(plain).filter((k) => k.includes('@OData.Community'))).toEqual([]);
    });

    it('adds the CDS annotations to errors when asked', async () => {
      const response = await api(`incidents(${randomUUID()})`, {
        headers: { prefer: 'odata.include-annotations="Microsoft.PowerApps.CDS.*"' },
      });
      const body = (await response.json()) as { error: Record<string, string> };
      expect(body.error).toMatchObject({
        code: '0x80040217',
        '@Microsoft.PowerApps.CDS.HelpLink': expect.stringContaining(
          'error=Microsoft.Crm.CrmException%3a80040217',
        ),
        '@Microsoft.PowerApps.CDS.ErrorDetails.OperationStatus': '0',
        '@Microsoft.PowerApps.CDS.InnerError.Message': expect.stringContaining('Does Not Exist'),
      });
    });

    it('answers GET parts of a $batch, each with its own status', async () => {
      const boundary = `batch_${randomUUID()}`;
      const body = [
        `--${boundary}`,
        'Content-Type: application/http',
        'Content-Transfer-Encoding: binary',
        '',
        `GET ${base()}incidents?$select=title&$filter=startswith(title,'${tag}')&$orderby=title&$top=1 HTTP/1.1`,
        'Accept: application/json',
        '',
        `--${boundary}`,
        'Content-Type: application/http',
        'Content-Transfer-Encoding: binary',
        '',
        `GET incidents(${randomUUID()}) HTTP/1.1`,
        '',
        `--${boundary}--`,
        '',
      ].join('\r\n');
      const response = await api('$batch', {
        method: 'POST',
        body,
        headers: { 'content-type': `multipart/mixed;boundary=${boundary}` },
      });
      expect(response.status).toBe(200);
      const text = await response.text();
      const answer = /boundary=(batchresponse_[0-9a-f-]+)/.exec(
        response.headers.get('content-type') ?? '',
      )![1];
      const parts = text.split(`--${answer}`).slice(1, -1);
      expect(parts).toHaveLength(2);
      expect(parts[0]).toMatch(/HTTP\/1\.1 200 OK/);
      expect(parts[0]).toContain(`"title":"${tag} case 0"`);
      expect(parts[1]).toMatch(/HTTP\/1\.1 404 Not Found[\s\S]*0x80040217/);
    });
  });

  describe('nothing is silently ignored', () => {
    const refused: [string, string, RequestInit, number][] = [
      [
        'FetchXML',
        `incidents?fetchXml=${encodeURIComponent('<fetch><entity name="incident"/></fetch>')}`,
        {},
        501,
      ],
      ['$apply', 'incidents?$apply=groupby((prioritycode))', {}, 501],
      ['$search', "incidents?$search='printer'", {}, 501],
      ['$skip', 'incidents?$skip=10', {}, 400],
      ['an unknown query option', 'incidents?$frobnicate=1', {}, 400],
      ['an unknown plain parameter', 'incidents?verbose=true', {}, 501],
      ['parameter aliases', 'incidents?$filter=title eq @p1&@p1=%27x%27', {}, 501],
      ['the in operator', "incidents?$filter=title in ('a','b')", {}, 501],
      [
        'a Dataverse query function',
        'incidents?$filter=Microsoft.Dynamics.CRM.Today(PropertyName=%27createdon%27)',
        {},
        501,
      ],
      ['an unknown $filter function', "incidents?$filter=tolower(title) eq 'x'", {}, 501],
      ['a nested $expand option other than $select', 'incidents?$expand=customerid_contact($top=1)', {}, 501],
      ['$metadata', '$metadata', {}, 501],
      ['EntityDefinitions', "EntityDefinitions(LogicalName='incident')", {}, 501],
      ['alternate keys', "contacts(emailaddress1='a@b.c')", {}, 501],
      ['a single property', `incidents(${randomUUID()})/title`, {}, 501],
      [
        'another bound action',
        `incidents(${randomUUID()})/Microsoft.Dynamics.CRM.CalculateRollupField`,
        { method: 'POST' },
        501,
      ],
      ['an unbound action', 'msdyn_ApplyRoutingRuleEntityRecord', { method: 'POST', body: '{}' }, 501],
      ['change tracking', 'incidents', { headers: { prefer: 'odata.track-changes' } }, 501],
      ['creating queue items directly', 'queueitems', { method: 'POST', body: '{}' }, 501],
      [
        'a change set in $batch',
        '$batch',
        {
          method: 'POST',
          headers: { 'content-type': 'multipart/mixed;boundary=b' },
          body: '--b\r\nContent-Type: multipart/mixed;boundary=c\r\n\r\n--c--\r\n--b--\r\n',
        },
        501,
      ],
      ['an unknown entity set', 'incidentss', {}, 404],
    ];

    it.each(refused)('%s → %s… not 200', async (_, path, init, status) => {
      const response = await api(path, init);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(response.status).toBe(status);
      expect(body.error.code).toMatch(/^0x[0-9a-f]{8}$/);
      if (status === 501) expect(body.error.message).toMatch(/^The sandbox does not simulate /);
    });

    it.each([
      ['$select', 'incidents?$select=title'],
      ['$filter', "incidents?$filter=title eq 'x'"],
      ['$orderby', 'incidents?$orderby=createdon desc'],
      ['$top', 'incidents?$top=1'],
      ['$count', 'incidents?$count=true'],
      ['$expand', 'incidents?$expand=customerid_contact'],
      ['Prefer: odata.maxpagesize', 'incidents'],
      ['Prefer: odata.include-annotations', 'incidents'],
    ])('%s is simulated', async (_, path) => {
      const response = await api(path, {
        headers: { prefer: 'odata.maxpagesize=2,odata.include-annotations="*"' },
      });
      expect(response.status).toBe(200);
    });
  });

  describe('faults an exactly-once client must survive', () => {
    it('resetAfterProcessing: the record is created, the answer never arrives', async () => {
      const environment = w.sandbox.model.environment('contoso');
      const before = environment.creates.incidents;
      environment.fault = { resetAfterProcessing: true, count: 1 };
      const id = randomUUID();
      await expect(send('PATCH', `incidents(${id})`, incident(), { 'if-none-match': '*' })).rejects.toThrow();
      expect(environment.creates.incidents).toBe(before + 1);
      const retried = await send('PATCH', `incidents(${id})`, incident(), { 'if-none-match': '*' });
      expect(retried.status).toBe(412);
      expect(environment.creates.incidents).toBe(before + 1);
    });
  });
});
