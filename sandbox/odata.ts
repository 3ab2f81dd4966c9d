// The part of OData's query syntax the sandbox understands, parsed as Dataverse parses it:
// `$filter` comparisons (`eq ne gt ge lt le`), `not`, `contains/startswith/endswith`, `and`/`or`
// and parentheses over strings (single quotes doubled), numbers, booleans, null, GUIDs and
// date-times; `$orderby` (several keys, asc/desc); `$expand` of single-valued navigation
// properties with a nested `$select`. Anything else raises ODataError (a 400), or
// NotSimulated (a 501) for valid OData the sandbox does not implement.

type Literal = string | number | boolean | null | Date;

type CompareOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

export type FilterNode =
  | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { kind: 'not'; operand: FilterNode }
  | { kind: 'compare'; op: CompareOp; property: string; value: Literal }
  | { kind: 'function'; name: 'contains' | 'startswith' | 'endswith'; property: string; value: string };

export class ODataError extends Error {}

/** Valid OData (or a Dataverse extension) that the sandbox does not simulate. */
export class NotSimulated extends Error {
  constructor(readonly feature: string) {
    super(`The sandbox does not simulate ${feature}.`);
  }
}

const COMPARE_OPS: CompareOp[] = ['eq', 'ne', 'gt', 'ge', 'lt', 'le'];
const UNSIMULATED_OPS = ['has', 'in', 'add', 'sub', 'mul', 'div', 'mod'];
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2}))?$/;

type Token = { type: 'word' | 'string' | 'number' | '(' | ')' | ','; text: string; value?: Literal };

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < filter.length) {
    const c = filter[i];
    if (c === ' ') {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ type: c, text: c });
      i++;
    } else if (c === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= filter.length) {
          throw new ODataError(
            `There is an unterminated literal at position ${filter.length} in '${filter}'.`,
          );
        }
        if (filter[j] === "'") {
          if (filter[j + 1] === "'") {
            value += "'";
            j += 2;
            continue;
          }
          break;
        }
        value += filter[j++];
      }
      tokens.push({ type: 'string', text: filter.slice(i, j + 1), value });
      i = j + 1;
      // A literal immediately followed by more word characters means an unescaped quote.
      if (i < filter.length && /[A-Za-z0-9]/.test(filter[i])) {
        const rest = filter.slice(i);
        if (!rest.includes("'") || (rest.split("'").length - 1) % 2 === 1) {
          throw new ODataError(
            `There is an unterminated literal at position ${filter.length} in '${filter}'.`,
          );
        }
        throw new ODataError(`Syntax error at position ${i} in '${filter}'.`);
      }
    } else {
      const match = /^[A-Za-z0-9_.:@+-]+/.exec(filter.slice(i));
      if (!match) {
        throw new ODataError(`Syntax error: character '${c}' is not valid at position ${i} in '${filter}'.`);
      }
      const word = match[0];
      if (/^-?\d+(\.\d+)?$/.test(word)) tokens.push({ type: 'number', text: word, value: Number(word) });
      else tokens.push({ type: 'word', text: word });
      i += word.length;
    }
  }
  return tokens;
}

export function parseFilter(filter: string): FilterNode {
  const dataverseFunction = /Microsoft\.Dynamics\.CRM\.\w+/.exec(filter);
  if (dataverseFunction) throw new NotSimulated(`the Dataverse query function '${dataverseFunction[0]}'`);
  const tokens = tokenize(filter);
  let position = 0;
  const peek = () => tokens[position];
  const next = () => tokens[position++];
  const expect = (type: Token['type']) => {
    const token = next();
    if (!token || token.type !== type)
      throw new ODataError(`Syntax error at position ${position} in '${filter}'.`);
    return token;
  };

  const literal = (): Literal => {
    const token = next();
    if (!token) throw new ODataError(`Expression expected at position ${filter.length} in '${filter}'.`);
    if (token.type === 'string' || token.type === 'number') return token.value ?? null;
    if (token.type === 'word') {
      if (token.text === 'null') return null;
      if (token.text === 'true' || token.text === 'false') return token.text === 'true';
      if (GUID.test(token.text)) return token.text.toLowerCase();
      if (DATE_TIME.test(token.text) && !Number.isNaN(Date.parse(token.text))) return new Date(token.text);
    }
    throw new ODataError(`Syntax error at position ${position} in '${filter}'.`);
  };

  const primary = (): FilterNode => {
    const token = peek();
    if (!token) throw new ODataError(`Expression expected at position ${filter.length} in '${filter}'.`);
    if (token.type === '(') {
      next();
      const inner = orExpression();
      expect(')');
      return inner;
    }
    const word = expect('word').text;
    if (word === 'not') return { kind: 'not', operand: primary() };
    if (peek()?.type === '(') {
      if (!['contains', 'startswith', 'endswith'].includes(word)) {
        throw new NotSimulated(`the $filter function '${word}' (contains, startswith and endswith are)`);
      }
      next();
      const property = expect('word').text;
      expect(',');
      const value = literal();
      expect(')');
      if (typeof value !== 'string') throw new ODataError(`The function '${word}' needs a string literal.`);
      return { kind: 'function', name: word as 'contains', property, value };
    }
    if (word.startsWith('Microsoft.Dynamics.CRM.')) {
      throw new NotSimulated(`the Dataverse query function '${word}'`);
    }
    const op = expect('word').text;
    if (UNSIMULATED_OPS.includes(op)) throw new NotSimulated(`the $filter operator '${op}'`);
    if (!COMPARE_OPS.includes(op as CompareOp)) {
      throw new ODataError(`Syntax error at position ${position} in '${filter}'.`);
    }
    return { kind: 'compare', op: op as CompareOp, property: word, value: literal() };
  };

  const andExpression = (): FilterNode => {
    let left = primary();
    while (peek()?.type === 'word' && peek().text === 'and') {
      next();
      left = { kind: 'and', left, right: primary() };
    }
    return left;
  };

  const orExpression = (): FilterNode => {
    let left = andExpression();
    while (peek()?.type === 'word' && peek().text === 'or') {
      next();
      left = { kind: 'or', left, right: andExpression() };
    }
    return left;
  };

  const tree = orExpression();
  if (position < tokens.length) throw new ODataError(`Syntax error at position ${position} in '${filter}'.`);
  return tree;
}

export function filterProperties(node: FilterNode): string[] {
  switch (node.kind) {
    case 'and':
    case 'or':
      return [...filterProperties(node.left), ...filterProperties(node.right)];
    case 'not':
      return filterProperties(node.operand);
    case 'compare':
    case 'function':
      return [node.property];
  }
}

/** -1, 0 or 1; undefined when the two cannot be ordered (a null, or different kinds). */
function compareValues(actual: unknown, expected: Literal): number | undefined {
  if (actual === null || actual === undefined || expected === null) return undefined;
  if (expected instanceof Date) {
    const time = typeof actual === 'string' ? Date.parse(actual) : NaN;
    return Number.isNaN(time) ? undefined : Math.sign(time - expected.getTime());
  }
  if (typeof expected === 'number' && typeof actual === 'number') return Math.sign(actual - expected);
  if (typeof expected === 'string' && typeof actual === 'string') {
    const a = actual.toLowerCase();
    const b = expected.toLowerCase();
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof expected === 'boolean' && typeof actual === 'boolean')
    return actual === expected ? 0 : undefined;
  return undefined;
}

export function matches(node: FilterNode, record: Record<string, unknown>): boolean {
  switch (node.kind) {
    case 'and':
      return matches(node.left, record) && matches(node.right, record);
    case 'or':
      return matches(node.left, record) || matches(node.right, record);
    case 'not':
      return !matches(node.operand, record);
    case 'compare': {
      const actual = record[node.property];
      const isNull = actual === null || actual === undefined;
      if (node.value === null) return node.op === 'eq' ? isNull : node.op === 'ne' ? !isNull : false;
      const order = compareValues(actual, node.value);
      switch (node.op) {
        case 'eq':
          return order === 0;
        case 'ne':
          return order !== 0;
        case 'gt':
          return order !== undefined && order > 0;
        case 'ge':
          return order !== undefined && order >= 0;
        case 'lt':
          return order !== undefined && order < 0;
        case 'le':
          return order !== undefined && order <= 0;
      }
      return false;
    }
    case 'function': {
      const actual = record[node.property];
      if (typeof actual !== 'string') return false;
      // Dataverse turns these into SQL LIKE: % _ [ ] in the value are wildcards
      // (Microsoft: "Use wildcard characters in conditions for string values"), `[%]` a literal %.
      const pattern = likePattern(node.value);
      const regex =
        node.name === 'contains'
          ? `^.*${pattern}.*$`
          : node.name === 'startswith'
            ? `^${pattern}.*$`
            : `^.*${pattern}$`;
      return new RegExp(regex, 'is').test(actual);
    }
  }
}

/** A LIKE pattern as a regular expression: `%` any run, `_` one character, `[…]` / `[^…]` a set. */
function likePattern(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '%') out += '.*';
    else if (c === '_') out += '.';
    else if (c === '[') {
      const end = value.indexOf(']', i + 2);
      if (end < 0) {
        out += '\\[';
        continue;
      }
      const body = value.slice(i + 1, end);
      const negated = body.startsWith('^');
      const members = (negated ? body.slice(1) : body).replace(/[\\\]]/g, '\\$&');
      out += `[${negated ? '^' : ''}${members}]`;
      i = end;
    } else out += c.replace(/[.*+?^${}()|\\/]/g, '\\$&');
  }
  return out;
}

export interface OrderKey {
  property: string;
  descending: boolean;
}

/** `$orderby=createdon desc,title` */
export function parseOrderBy(orderby: string): OrderKey[] {
  return orderby.split(',').map((part) => {
    const words = part.trim().split(/\s+/);
    const [property, direction = 'asc'] = words;
    if (
      !property ||
      words.length > 2 ||
      !/^(asc|desc)$/i.test(direction) ||
      !/^[A-Za-z_][\w]*$/.test(property)
    ) {
      throw new ODataError(`Syntax error in $orderby '${orderby}'.`);
    }
    return { property, descending: direction.toLowerCase() === 'desc' };
  });
}

/** Null first ascending (as SQL Server sorts them), strings case-insensitively. */
export function sortRows<T>(
  rows: T[],
  keys: OrderKey[],
  valueOf: (row: T, property: string) => unknown,
): T[] {
  return [...rows].sort((a, b) => {
    for (const { property, descending } of keys) {
      const x = valueOf(a, property);
      const y = valueOf(b, property);
      let order: number;
      if (x === null || x === undefined) order = y === null || y === undefined ? 0 : -1;
      else if (y === null || y === undefined) order = 1;
      else if (typeof x === 'string' && typeof y === 'string') {
        const p = x.toLowerCase();
        const q = y.toLowerCase();
        order = p < q ? -1 : p > q ? 1 : 0;
      } else order = x < y ? -1 : x > y ? 1 : 0;
      if (order !== 0) return descending ? -order : order;
    }
    return 0;
  });
}

export interface ExpandItem {
  navigation: string;
  select?: string[];
}

/** `$expand=customerid_contact($select=fullname,emailaddress1),ownerid` */
export function parseExpand(expand: string): ExpandItem[] {
  const items: ExpandItem[] = [];
  let depth = 0;
  let current = '';
  const parts: string[] = [];
  for (const c of expand) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += c;
    if (depth < 0) throw new ODataError(`Syntax error in $expand '${expand}'.`);
  }
  if (depth !== 0) throw new ODataError(`Syntax error in $expand '${expand}'.`);
  parts.push(current);
  for (const part of parts) {
    const match = /^\s*([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*$/.exec(part);
    if (!match) throw new ODataError(`Syntax error in $expand '${expand}'.`);
    const item: ExpandItem = { navigation: match[1] };
    if (match[2] !== undefined) {
      for (const option of match[2].split(';')) {
        const [name, value] = option.split('=');
        if (name.trim() !== '$select') throw new NotSimulated(`the nested $expand option '${name.trim()}'`);
        item.select = value
          .split(',')
          .map((c) => c.trim())
          .filter(Boolean);
      }
    }
    items.push(item);
  }
  return items;
}
