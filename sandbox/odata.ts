/**
 * The part of OData query syntax the sandbox understands: `$select`, `$top` and a `$filter` of
 * comparisons (`eq`, `ne`) and `contains/startswith/endswith` joined by `and`/`or` with
 * parentheses. String literals double their single quotes (`'O''Brien'`); string comparisons are
 * case-insensitive, as in Dataverse.
 */

type Literal = string | number | boolean | null;

export type FilterNode =
  | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { kind: 'compare'; op: 'eq' | 'ne'; property: string; value: Literal }
  | { kind: 'function'; name: 'contains' | 'startswith' | 'endswith'; property: string; value: string };

export class ODataError extends Error {}

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
      const match = /^[A-Za-z0-9_.:@-]+/.exec(filter.slice(i));
      if (!match)
        throw new ODataError(`Syntax error: character '${c}' is not valid at position ${i} in '${filter}'.`);
      const text = match[0];
      if (/^-?\d+(\.\d+)?$/.test(text)) tokens.push({ type: 'number', text, value: Number(text) });
      else tokens.push({ type: 'word', text });
      i += text.length;
    }
  }
  return tokens;
}

export function parseFilter(filter: string): FilterNode {
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
      if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(token.text))
        return token.text;
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
    if (['contains', 'startswith', 'endswith'].includes(word) && peek()?.type === '(') {
      next();
      const property = expect('word').text;
      expect(',');
      const value = literal();
      expect(')');
      if (typeof value !== 'string') throw new ODataError(`The function '${word}' needs a string literal.`);
      return { kind: 'function', name: word as 'contains', property, value };
    }
    const op = expect('word').text;
    if (op !== 'eq' && op !== 'ne') {
      throw new ODataError(
        `The operator '${op}' is not supported by this sandbox (eq, ne, and, or, contains, startswith, endswith are).`,
      );
    }
    return { kind: 'compare', op, property: word, value: literal() };
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
    case 'compare':
    case 'function':
      return [node.property];
  }
}

function equal(actual: unknown, expected: Literal): boolean {
  if (expected === null) return actual === null || actual === undefined;
  if (typeof expected === 'string' && typeof actual === 'string') {
    return actual.toLowerCase() === expected.toLowerCase();
  }
  return actual === expected;
}

export function matches(node: FilterNode, record: Record<string, unknown>): boolean {
  switch (node.kind) {
    case 'and':
      return matches(node.left, record) && matches(node.right, record);
    case 'or':
      return matches(node.left, record) || matches(node.right, record);
    case 'compare':
      return node.op === 'eq'
        ? equal(record[node.property], node.value)
        : !equal(record[node.property], node.value);
    case 'function': {
      const actual = record[node.property];
      if (typeof actual !== 'string') return false;
      const a = actual.toLowerCase();
      const v = node.value.toLowerCase();
      return node.name === 'contains'
        ? a.includes(v)
        : node.name === 'startswith'
          ? a.startsWith(v)
          : a.endsWith(v);
    }
  }
}
