// Reading simulated tables: collections with $select, $filter, $orderby, $top, $count, $expand
// and server-driven paging (Prefer: odata.maxpagesize → @odata.nextLink with $skiptoken), the
// /$count segment, and single records.
import { ENTITIES, EntityInfo, navigationOf } from './entities.js';
import {
  contextUrl,
  DataverseError,
  DvContext,
  DvRequest,
  DvResponse,
  json,
  notSimulated,
} from './dataverse-protocol.js';
import {
  isReadable,
  lookupTarget,
  notFound,
  present,
  requirePrivilege,
  canRead,
  noReadAccess,
  unknownProperty,
} from './dataverse-records.js';
import type { DataverseRecord } from './model.js';
import {
  ExpandItem,
  filterProperties,
  matches,
  NotSimulated,
  ODataError,
  parseExpand,
  parseFilter,
  parseOrderBy,
  sortRows,
} from './odata.js';

const MAX_PAGE = 5000;

/** Query options Dataverse refuses outright, and those it has that the sandbox does not simulate. */
const REFUSED: Record<string, string> = {
  $skip: 'The query parameter $skip is not supported',
};
const UNSIMULATED: Record<string, string> = {
  $apply: 'aggregation ($apply)',
  $search: 'full-text search ($search)',
  $format: '$format',
  $levels: '$levels',
  $compute: '$compute',
  $deltatoken: 'change tracking ($deltatoken)',
  fetchXml: 'FetchXML queries (?fetchXml=)',
  savedQuery: 'saved queries (?savedQuery=)',
  userQuery: 'user queries (?userQuery=)',
};
const COLLECTION_OPTIONS = ['$select', '$filter', '$orderby', '$top', '$count', '$expand', '$skiptoken'];
const RECORD_OPTIONS = ['$select', '$expand'];

function checkQueryOptions(query: Record<string, string>, allowed: string[]): void {
  for (const name of Object.keys(query)) {
    if (REFUSED[name]) throw new DataverseError(400, '0x80060888', REFUSED[name]);
    if (UNSIMULATED[name]) throw notSimulated(UNSIMULATED[name]);
    if (name.startsWith('@')) throw notSimulated(`parameter aliases (${name})`);
    if (name.startsWith('$') && !allowed.includes(name)) {
      throw new DataverseError(400, '0x80060888', `The query parameter ${name} is not supported`);
    }
    if (!name.startsWith('$')) throw notSimulated(`the query parameter '${name}'`);
  }
}

/** OData syntax errors are 400s; features the sandbox lacks are 501s. */
function parsing<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ODataError) throw new DataverseError(400, '0x80060888', error.message);
    if (error instanceof NotSimulated) throw notSimulated(error.feature);
    throw error;
  }
}

function parseSelect(ctx: DvContext, entity: EntityInfo, select: string | undefined): string[] | undefined {
  if (select === undefined) return undefined;
  const columns = select
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  for (const column of columns) {
    if (!isReadable(ctx.environment, entity, column)) throw unknownProperty(entity, column);
  }
  return columns;
}

function parseExpands(entity: EntityInfo, expand: string | undefined): ExpandItem[] {
  if (expand === undefined) return [];
  const items = parsing(() => parseExpand(expand));
  for (const item of items) {
    if (!navigationOf(entity, item.navigation)) {
      throw new DataverseError(
        400,
        '0x80060888',
        `Could not find a property named '${item.navigation}' on type 'Microsoft.Dynamics.CRM.${entity.logicalName}'.`,
      );
    }
  }
  return items;
}

function withExpands(
  ctx: DvContext,
  entity: EntityInfo,
  record: DataverseRecord,
  row: Record<string, unknown>,
  expands: ExpandItem[],
) {
  for (const item of expands) {
    const { lookup, target } = navigationOf(entity, item.navigation)!;
    const id = record.attributes[lookup.column];
    const targetEntity = ENTITIES[target];
    const related =
      typeof id === 'string' && lookupTarget(ctx.environment, lookup, id) === target
        ? ctx.environment.records[target].get(id)
        : undefined;
    if (related) {
      requirePrivilege(ctx.environment, ctx.user, 'Read', targetEntity);
      if (item.select) {
        for (const column of item.select) {
          if (!isReadable(ctx.environment, targetEntity, column)) throw unknownProperty(targetEntity, column);
        }
      }
      row[item.navigation] = present(ctx, targetEntity, related, item.select);
    } else {
      row[item.navigation] = null;
    }
  }
  return row;
}

function selectFragment(entity: EntityInfo, select: string[] | undefined, expands: ExpandItem[]): string {
  const parts = [...(select ?? []), ...expands.map((e) => `${e.navigation}(${(e.select ?? []).join(',')})`)];
  return `${entity.set}${parts.length ? `(${parts.join(',')})` : ''}`;
}

function matchingRows(ctx: DvContext, entity: EntityInfo, query: Record<string, string>): DataverseRecord[] {
  let rows = [...ctx.environment.records[entity.set].values()].filter((r) => canRead(ctx.user, entity, r));
  if (query.$filter !== undefined) {
    const filter = parsing(() => parseFilter(query.$filter));
    for (const property of filterProperties(filter)) {
      if (!isReadable(ctx.environment, entity, property)) throw unknownProperty(entity, property);
    }
    rows = rows.filter((r) => matches(filter, { [entity.primaryKey]: r.id, ...r.attributes }));
  }
  if (query.$orderby !== undefined) {
    const keys = parsing(() => parseOrderBy(query.$orderby));
    for (const key of keys) {
      if (!isReadable(ctx.environment, entity, key.property)) throw unknownProperty(entity, key.property);
    }
    rows = sortRows(rows, keys, (r, p) => (p === entity.primaryKey ? r.id : r.attributes[p]));
  }
  return rows;
}

export function listRecords(ctx: DvContext, entity: EntityInfo, request: DvRequest): DvResponse {
  const { query } = request;
  checkQueryOptions(query, COLLECTION_OPTIONS);
  requirePrivilege(ctx.environment, ctx.user, 'Read', entity);
  const select = parseSelect(ctx, entity, query.$select);
  const expands = parseExpands(entity, query.$expand);
  if (query.$top !== undefined && !/^\d+$/.test(query.$top)) {
    throw new DataverseError(
      400,
      '0x80060888',
      `Invalid value '${query.$top}' for $top query option found. The $top query option requires a non-negative integer value.`,
    );
  }
  if (query.$count !== undefined && !/^(true|false)$/.test(query.$count)) {
    throw new DataverseError(400, '0x80060888', `'${query.$count}' is not a valid count option.`);
  }
  const rows = matchingRows(ctx, entity, query);
  const page = ctx.prefer.maxPageSize;
  // With odata.maxpagesize, $top is ignored (Microsoft's paging documentation).
  const size = page ?? Math.min(query.$top !== undefined ? Number(query.$top) : MAX_PAGE, MAX_PAGE);
  const pageNumber = query.$skiptoken !== undefined ? pageOfToken(query.$skiptoken) : 1;
  const start = (pageNumber - 1) * size;
  const slice = rows.slice(start, start + size);
  const more = (page !== undefined || query.$top === undefined) && rows.length > start + size;
  const headers: Record<string, string> = {};
  const applied = [
    ...(page !== undefined ? [`odata.maxpagesize=${page}`] : []),
    ...(ctx.prefer.annotations ? [`odata.include-annotations="${ctx.prefer.annotations.join(',')}"`] : []),
  ];
  if (applied.length) headers['preference-applied'] = applied.join(',');
  return json(
    200,
    {
      '@odata.context': contextUrl(ctx.environment, selectFragment(entity, select, expands)),
      ...(query.$count === 'true' ? { '@odata.count': Math.min(rows.length, MAX_PAGE) } : {}),
      value: slice.map((r) => withExpands(ctx, entity, r, present(ctx, entity, r, select), expands)),
      ...(more ? { '@odata.nextLink': nextLink(ctx, entity, request, pageNumber + 1, slice) } : {}),
    },
    headers,
  );
}

/** The same query with a $skiptoken shaped like Dataverse's paging cookie. */
function nextLink(
  ctx: DvContext,
  entity: EntityInfo,
  request: DvRequest,
  page: number,
  slice: DataverseRecord[],
): string {
  const cookie = `<cookie page="${page - 1}"><${entity.primaryKey} last="{${slice[slice.length - 1].id.toUpperCase()}}" first="{${slice[0].id.toUpperCase()}}" /></cookie>`;
  const token = `<cookie pagenumber="${page}" pagingcookie="${encodeURIComponent(cookie)}" istracking="False" />`;
  const kept = request.rawQuery
    .split('&')
    .filter((p) => p !== '' && !p.startsWith('%24skiptoken=') && !p.startsWith('$skiptoken='));
  kept.push(`$skiptoken=${encodeURIComponent(token)}`);
  return `${ctx.environment.origin}/api/data/v9.2/${entity.set}?${kept.join('&')}`;
}

function pageOfToken(token: string): number {
  const match = /pagenumber="(\d+)"/.exec(token);
  if (!match || Number(match[1]) < 2)
    throw new DataverseError(400, '0x80060888', 'The $skiptoken is not valid.');
  return Number(match[1]);
}

/** `GET <set>/$count`: the number of matching rows (up to 5,000) as plain text. */
export function countRecords(ctx: DvContext, entity: EntityInfo, request: DvRequest): DvResponse {
  checkQueryOptions(request.query, ['$filter']);
  requirePrivilege(ctx.environment, ctx.user, 'Read', entity);
  const count = Math.min(matchingRows(ctx, entity, request.query).length, MAX_PAGE);
  return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: String(count) };
}

export function retrieveRecord(
  ctx: DvContext,
  entity: EntityInfo,
  id: string,
  request: DvRequest,
): DvResponse {
  checkQueryOptions(request.query, RECORD_OPTIONS);
  requirePrivilege(ctx.environment, ctx.user, 'Read', entity);
  const record = ctx.environment.records[entity.set].get(id);
  if (!record) throw notFound(entity, id);
  if (!canRead(ctx.user, entity, record)) throw noReadAccess(ctx.environment, ctx.user, entity, id);
  const select = parseSelect(ctx, entity, request.query.$select);
  const expands = parseExpands(entity, request.query.$expand);
  const ifNoneMatch = request.headers['if-none-match'];
  if (
    ifNoneMatch &&
    ifNoneMatch !== 'null' &&
    ifNoneMatch === `W/"${record.version}"` &&
    !expands.length &&
    !ctx.prefer.annotations
  ) {
    return { status: 304, headers: {} };
  }
  return json(200, {
    '@odata.context': contextUrl(ctx.environment, `${selectFragment(entity, select, expands)}/$entity`),
    ...withExpands(ctx, entity, record, present(ctx, entity, record, select), expands),
  });
}
