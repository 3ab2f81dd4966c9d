// Records of the simulated tables: how they are shown (with FormattedValue and lookup
// annotations on request), privileges, and the validation Dataverse applies to creates and updates.
import { randomBytes, randomUUID } from 'node:crypto';
import {
  Column,
  ENTITIES,
  EntityInfo,
  EntitySetName,
  isEntitySet,
  Lookup,
  navigationFor,
  navigationOf,
} from './entities.js';
import { DataverseError, DvContext, Preferences, wantsAnnotation } from './dataverse-protocol.js';
import { ApplicationUser, DataverseRecord, Environment, isGuid, stableGuid } from './model.js';

const FORMATTED = 'OData.Community.Display.V1.FormattedValue';
const LOOKUP_NAME = 'Microsoft.Dynamics.CRM.lookuplogicalname';
const NAVIGATION = 'Microsoft.Dynamics.CRM.associatednavigationproperty';

/** The entity's columns in this environment: its own and any custom ones added to it. */
function columnsOf(environment: Environment, entity: EntityInfo): Column[] {
  return [...entity.columns, ...(environment.customColumns[entity.set] ?? [])];
}

export function isReadable(environment: Environment, entity: EntityInfo, name: string): boolean {
  return (
    name === entity.primaryKey ||
    columnsOf(environment, entity).some((c) => c.name === name) ||
    entity.lookups.some((l) => l.column === name)
  );
}

export function unknownProperty(entity: EntityInfo, property: string): DataverseError {
  return new DataverseError(
    400,
    '0x80060888',
    `Could not find a property named '${property}' on type 'Microsoft.Dynamics.CRM.${entity.logicalName}'.`,
  );
}

export function notFound(entity: EntityInfo, id: string): DataverseError {
  return new DataverseError(404, '0x80040217', `${entity.logicalName} With Id = ${id} Does Not Exist`);
}

export function etagOf(record: DataverseRecord): string {
  return `W/"${record.version}"`;
}

/** A record as the Web API shows it: `@odata.etag`, the selected columns, lookups as `_x_value`. */
export function present(
  ctx: DvContext,
  entity: EntityInfo,
  record: DataverseRecord,
  select: string[] | undefined,
): Record<string, unknown> {
  const { environment, prefer } = ctx;
  const out: Record<string, unknown> = { '@odata.etag': etagOf(record) };
  const names = select ?? [
    ...columnsOf(environment, entity).map((c) => c.name),
    ...entity.lookups.map((l) => l.column),
  ];
  for (const name of names) {
    if (name === entity.primaryKey) continue;
    const value = record.attributes[name] ?? null;
    const lookup = entity.lookups.find((l) => l.column === name);
    if (lookup) annotateLookup(out, environment, prefer, lookup, name, value);
    else {
      const column = columnsOf(environment, entity).find((c) => c.name === name);
      const formatted = column && value !== null ? formatValue(column, value) : undefined;
      if (formatted !== undefined && wantsAnnotation(prefer, FORMATTED))
        out[`${name}@${FORMATTED}`] = formatted;
    }
    out[name] = value;
  }
  out[entity.primaryKey] = record.id;
  return out;
}

function annotateLookup(
  out: Record<string, unknown>,
  environment: Environment,
  prefer: Preferences,
  lookup: Lookup,
  name: string,
  value: unknown,
): void {
  if (typeof value !== 'string') return;
  const target = lookupTarget(environment, lookup, value);
  if (!target) return;
  const targetEntity = ENTITIES[target];
  const record = environment.records[target].get(value);
  const label = record?.attributes[targetEntity.primaryName];
  if (typeof label === 'string' && wantsAnnotation(prefer, FORMATTED)) out[`${name}@${FORMATTED}`] = label;
  const navigation = navigationFor(lookup, target);
  if (navigation && wantsAnnotation(prefer, NAVIGATION)) out[`${name}@${NAVIGATION}`] = navigation;
  if (wantsAnnotation(prefer, LOOKUP_NAME)) out[`${name}@${LOOKUP_NAME}`] = targetEntity.logicalName;
}

/** The set a lookup value points into (a polymorphic lookup is told apart by where the id lives). */
export function lookupTarget(
  environment: Environment,
  lookup: Lookup,
  id: string,
): EntitySetName | undefined {
  const sets = [...Object.values(lookup.navigations), ...Object.values(lookup.bindTargets ?? {}).flat()];
  return [...new Set(sets)].find((set) => environment.records[set].has(id));
}

function formatValue(column: Column, value: unknown): string | undefined {
  switch (column.kind.type) {
    case 'optionset':
      return typeof value === 'number' ? column.kind.options[value] : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? column.kind.labels[value ? 1 : 0] : undefined;
    case 'datetime':
      return typeof value === 'string'
        ? new Date(value)
            .toLocaleString('en-US', {
              timeZone: 'UTC',
              year: 'numeric',
              month: 'numeric',
              day: 'numeric',
              hour: 'numeric',
              minute: '2-digit',
            })
            .replace(',', '')
        : undefined;
    case 'integer':
      return typeof value === 'number' ? value.toLocaleString('en-US') : undefined;
    case 'string':
    case 'memo':
    case 'guid':
      return undefined;
  }
}

function privilegeName(action: string, entity: EntityInfo): string {
  return `prv${action}${entity.privilegeStem}`;
}

export function requirePrivilege(
  environment: Environment,
  user: ApplicationUser,
  action: 'Create' | 'Read' | 'Write' | 'Delete' | 'Append' | 'AppendTo' | 'Assign',
  entity: EntityInfo,
): void {
  if (user.privileges === 'all') return;
  const name = privilegeName(action, entity);
  if (user.privileges.has(name)) return;
  const count = user.privileges.size;
  throw new DataverseError(
    403,
    '0x80040220',
    `Principal user (Id=${user.systemUserId}, type=8, roleCount=${user.roleCount}, privilegeCount=${count}, accessMode='4 Non-interactive', AADObjectId='${user.objectId}', MetadataCachePrivilegesCount=${count + 4000}, businessUnitId=${environment.businessUnitId}), is missing ${name} privilege (Id=${stableGuid(name)}) on OTC=${entity.objectTypeCode} for entity '${entity.logicalName}' (LocalizedName='${entity.localizedName}'). context.Caller=${user.systemUserId}. Consider adding missed privilege to one of the principal (user/team) roles.`,
  );
}

/**
 * Whether the user's Read privilege reaches this record: at Basic (user) depth only the records it
 * owns; wider depths reach every record (the sandbox has one business unit). Tables without an
 * owner are organization-owned: any Read reaches them.
 */
export function canRead(user: ApplicationUser, entity: EntityInfo, record: DataverseRecord): boolean {
  if (user.privileges === 'all') return true;
  if ((user.depths[privilegeName('Read', entity)] ?? 'Global') !== 'Basic') return true;
  if (!entity.lookups.some((l) => l.column === '_ownerid_value')) return true;
  return record.attributes._ownerid_value === user.systemUserId;
}

/** A record the user's Read depth does not reach, as Dataverse refuses it. */
export function noReadAccess(
  environment: Environment,
  user: ApplicationUser,
  entity: EntityInfo,
  id: string,
): DataverseError {
  return new DataverseError(
    403,
    '0x80040220',
    `Principal user (Id=${user.systemUserId}, type=8, roleCount=${user.roleCount}, privilegeCount=${user.privileges === 'all' ? 0 : user.privileges.size}, accessMode='4 Non-interactive', AADObjectId='${user.objectId}', businessUnitId=${environment.businessUnitId}), is missing prvRead${entity.privilegeStem} privilege (Id=${stableGuid(privilegeName('Read', entity))}) on OTC=${entity.objectTypeCode} for entity '${entity.logicalName}' (LocalizedName='${entity.localizedName}') for record ${id}: its Read depth does not reach records of other owners. Consider raising the privilege's depth in one of the principal (user/team) roles.`,
  );
}

/**
 * The body of a create or update turned into attribute values, as Dataverse checks it: known,
 * writable columns of the right type and length; binds to existing records of an allowed set,
 * with Append and AppendTo privileges.
 */
export function attributesFromBody(
  ctx: DvContext,
  entity: EntityInfo,
  body: unknown,
): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new DataverseError(400, '0x80060888', 'The request body is not valid JSON for an entity.');
  }
  const { environment, user } = ctx;
  const attributes: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    if (name.endsWith('@odata.bind')) {
      const navigation = name.slice(0, -'@odata.bind'.length);
      const bound = navigationOf(entity, navigation);
      if (!bound) {
        throw new DataverseError(
          400,
          '0x80060888',
          `An undeclared property '${navigation}' which only has property annotations in the payload but no property value was found in the payload. In OData, only declared navigation properties and declared named streams can be represented as properties without values.`,
        );
      }
      if (value === null) {
        attributes[bound.lookup.column] = null;
        continue;
      }
      const target = parseBind(environment, value);
      const allowed = bound.lookup.bindTargets?.[navigation] ?? [bound.target];
      if (!target || !allowed.includes(target.set)) {
        throw new DataverseError(
          400,
          '0x80060888',
          `A URL '${JSON.stringify(value)}' given in '${name}' is not valid for navigation property '${navigation}'.`,
        );
      }
      const targetEntity = ENTITIES[target.set];
      if (bound.lookup.column === '_ownerid_value') {
        // Owning a record is assigning it: Assign on the table when the owner is someone else,
        // and the new owner must be an enabled user.
        if (target.id !== user.systemUserId) requirePrivilege(environment, user, 'Assign', entity);
        const owner = environment.records[target.set].get(target.id);
        if (!owner) throw notFound(targetEntity, target.id);
        if (target.set === 'systemusers' && owner.attributes.isdisabled === true) {
          throw new DataverseError(
            400,
            '0x80040225',
            `The user with SystemUserId=${target.id} in OrganizationContext=${environment.organizationId} is disabled.`,
          );
        }
      } else {
        requirePrivilege(environment, user, 'Append', entity);
        requirePrivilege(environment, user, 'AppendTo', targetEntity);
      }
      if (!environment.records[target.set].has(target.id)) throw notFound(targetEntity, target.id);
      if (bound.lookup.column in attributes && attributes[bound.lookup.column] !== target.id) {
        throw bothCustomers(entity);
      }
      attributes[bound.lookup.column] = target.id;
      continue;
    }
    if (name.startsWith('@')) continue;
    const column = columnsOf(environment, entity).find((c) => c.name === name);
    if (!column || column.readOnly) {
      throw new DataverseError(
        400,
        '0x80060891',
        `Invalid property '${name}' was found in entity 'Microsoft.Dynamics.CRM.${entity.logicalName}'.`,
      );
    }
    attributes[name] = checkValue(entity, column, value);
  }
  return attributes;
}

function bothCustomers(entity: EntityInfo): DataverseError {
  return new DataverseError(
    400,
    '0x8004440f',
    `A ${entity.logicalName} can have a contact or an account as its customer, not both.`,
  );
}

function checkValue(entity: EntityInfo, column: Column, value: unknown): unknown {
  if (value === null) return null;
  const kind = column.kind;
  const wrongType = (edm: string) =>
    new DataverseError(
      400,
      '0x80060888',
      `Cannot convert the literal '${JSON.stringify(value) ?? ''}' to the expected type '${edm}'.`,
    );
  switch (kind.type) {
    case 'string':
    case 'memo':
      if (typeof value !== 'string') throw wrongType('Edm.String');
      if (value.length > kind.maxLength) {
        throw new DataverseError(
          400,
          '0x80044331',
          `A validation error occurred. The length of the '${column.name}' attribute of the '${entity.logicalName}' entity exceeded the maximum allowed length of '${kind.maxLength}'.`,
        );
      }
      return value;
    case 'integer':
      if (!Number.isInteger(value)) throw wrongType('Edm.Int32');
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw wrongType('Edm.Boolean');
      return value;
    case 'datetime':
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw wrongType('Edm.DateTimeOffset');
      return new Date(value).toISOString().replace(/\.\d{3}Z$/, 'Z');
    case 'guid':
      if (typeof value !== 'string' || !isGuid(value)) throw wrongType('Edm.Guid');
      return value.toLowerCase();
    case 'optionset':
      if (!Number.isInteger(value)) throw wrongType('Edm.Int32');
      if (!((value as number) in kind.options)) {
        throw new DataverseError(
          400,
          '0x80044331',
          `A validation error occurred. The value ${value as number} of '${column.name}' on record of type '${entity.logicalName}' is outside the valid range. Accepted Values: ${Object.keys(kind.options).join(',')}`,
        );
      }
      return value;
  }
}

/** `/contacts(<id>)`, `contacts(<id>)` or an absolute `https://org/api/data/v9.2/contacts(<id>)`. */
function parseBind(environment: Environment, value: unknown): { set: EntitySetName; id: string } | undefined {
  if (typeof value !== 'string') return undefined;
  let path = value;
  if (/^https?:\/\//i.test(value)) {
    const base = `${environment.origin}/api/data/`.toLowerCase();
    const version = /^v9\.[0-2]\//.exec(value.slice(base.length));
    if (!value.toLowerCase().startsWith(base) || !version) return undefined;
    path = value.slice(base.length + version[0].length);
  }
  const match = /^\/?([a-z_]+)\(([0-9a-fA-F-]{36})\)$/.exec(path);
  if (!match || !isEntitySet(match[1]) || !isGuid(match[2])) return undefined;
  return { set: match[1], id: match[2].toLowerCase() };
}

const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const nextVersion = () => 1_000_000 + Math.floor(Math.random() * 9_000_000);

/** A new record with the platform's defaults and rules for its table. */
export function createRecord(
  ctx: DvContext,
  entity: EntityInfo,
  id: string,
  attributes: Record<string, unknown>,
): DataverseRecord {
  const { environment, user } = ctx;
  if (!entity.creatable)
    throw new DataverseError(405, '0x80060888', `Records of ${entity.set} cannot be created here.`);
  requirePrivilege(environment, user, 'Create', entity);
  const values = { ...attributes };
  if (entity.set === 'incidents') {
    if (!values._customerid_value) {
      throw new DataverseError(400, '0x80044410', 'You should specify a parent contact or account.');
    }
    environment.ticketSequence += 1;
    values.ticketnumber = `CAS-${String(environment.ticketSequence).padStart(5, '0')}-${randomTicketSuffix()}`;
    values.prioritycode ??= 2;
    values.statecode ??= 0;
    values.statuscode ??= 1;
    values.routecase ??= true;
  }
  if (entity.set === 'contacts') {
    values.fullname = [values.firstname, values.lastname].filter(Boolean).join(' ');
    values.statecode ??= 0;
    values.statuscode ??= 1;
  }
  if (entity.set === 'accounts') {
    values.statecode ??= 0;
    values.statuscode ??= 1;
  }
  if (entity.set === 'annotations') {
    const target = values._objectid_value;
    if (typeof target === 'string') {
      const set = lookupTarget(
        environment,
        entity.lookups.find((l) => l.column === '_objectid_value')!,
        target,
      );
      if (set) values.objecttypecode = ENTITIES[set].logicalName;
    }
    values.isdocument ??= false;
  }
  if (entity.lookups.some((l) => l.column === '_ownerid_value')) values._ownerid_value ??= user.systemUserId;
  values.createdon = now();
  values.modifiedon = values.createdon;
  const record: DataverseRecord = { id, version: nextVersion(), attributes: values };
  environment.records[entity.set].set(id, record);
  environment.creates[entity.set] += 1;
  return record;
}

export function updateRecord(
  ctx: DvContext,
  entity: EntityInfo,
  record: DataverseRecord,
  attributes: Record<string, unknown>,
): void {
  requirePrivilege(ctx.environment, ctx.user, 'Write', entity);
  if (entity.set === 'incidents') {
    const customer = '_customerid_value';
    if (customer in attributes && !attributes[customer]) {
      throw new DataverseError(400, '0x80044410', 'You should specify a parent contact or account.');
    }
  }
  Object.assign(record.attributes, attributes);
  if (entity.set === 'contacts') {
    record.attributes.fullname = [record.attributes.firstname, record.attributes.lastname]
      .filter(Boolean)
      .join(' ');
  }
  record.attributes.modifiedon = now();
  record.version = nextVersion();
}

function randomTicketSuffix(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';
  return Array.from(randomBytes(6), (b) => alphabet[b % alphabet.length]).join('');
}

/**
 * `queues(<id>)/Microsoft.Dynamics.CRM.AddToQueue`: puts the target in the queue, or moves its
 * active queue item there (a record is in one queue at a time).
 */
export function addToQueue(ctx: DvContext, queueId: string, body: unknown): { queueItemId: string } {
  const { environment, user } = ctx;
  const queues = ENTITIES.queues;
  const items = ENTITIES.queueitems;
  const target = (body as { Target?: Record<string, unknown> } | undefined)?.Target;
  if (!target || typeof target !== 'object') {
    throw new DataverseError(
      400,
      '0x80060888',
      "The parameter 'Target' of the action 'AddToQueue' is required.",
    );
  }
  const odataType = target['@odata.type'];
  const type = typeof odataType === 'string' ? odataType : '';
  const targetEntity = Object.values(ENTITIES).find(
    (e) => type === `Microsoft.Dynamics.CRM.${e.logicalName}`,
  );
  if (!targetEntity || targetEntity.set !== 'incidents') {
    if (type && !targetEntity)
      throw new DataverseError(400, '0x80060888', `The type '${type}' is not valid for 'Target'.`);
    throw new DataverseError(
      501,
      '0x80060888',
      `The sandbox does not simulate AddToQueue for targets other than incidents (got '${type || 'no @odata.type'}').`,
    );
  }
  const key = target[targetEntity.primaryKey];
  const targetId = typeof key === 'string' ? key.toLowerCase() : '';
  if (!isGuid(targetId)) {
    throw new DataverseError(400, '0x80060888', `'Target' must carry ${targetEntity.primaryKey}.`);
  }
  const parameters = body as Record<string, unknown>;
  for (const parameter of ['SourceQueue', 'QueueItemProperties']) {
    if (parameters[parameter] !== undefined && parameters[parameter] !== null) {
      throw new DataverseError(
        501,
        '0x80060888',
        `The sandbox does not simulate AddToQueue's ${parameter} parameter (Target and the queue are).`,
      );
    }
  }
  requirePrivilege(environment, user, 'Read', queues);
  requirePrivilege(environment, user, 'AppendTo', queues);
  requirePrivilege(environment, user, 'Read', targetEntity);
  const queue = environment.records.queues.get(queueId);
  if (!queue) throw notFound(queues, queueId);
  if (queue.attributes.statecode === 1) {
    throw new DataverseError(501, '0x80060888', 'The sandbox does not simulate adding to an inactive queue.');
  }
  const object = environment.records[targetEntity.set].get(targetId);
  if (!object) throw notFound(targetEntity, targetId);
  const existing = [...environment.records.queueitems.values()].find(
    (item) => item.attributes._objectid_value === targetId && item.attributes.statecode === 0,
  );
  if (existing) {
    requirePrivilege(environment, user, 'Write', items);
    existing.attributes._queueid_value = queueId;
    existing.attributes.modifiedon = now();
    existing.version = nextVersion();
    return { queueItemId: existing.id };
  }
  requirePrivilege(environment, user, 'Create', items);
  const id = randomUUID();
  environment.records.queueitems.set(id, {
    id,
    version: nextVersion(),
    attributes: {
      _queueid_value: queueId,
      _objectid_value: targetId,
      objecttypecode: targetEntity.objectTypeCode,
      title: object.attributes[targetEntity.primaryName] ?? null,
      enteredon: now(),
      statecode: 0,
      createdon: now(),
      modifiedon: now(),
    },
  });
  environment.creates.queueitems += 1;
  return { queueItemId: id };
}
