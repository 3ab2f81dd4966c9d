import { findBodyProblem } from './http-edge.js';

describe('findBodyProblem', () => {
  it('accepts ordinary bodies, emoji included', () => {
    expect(findBodyProblem({ a: 'x', b: [1, { c: 'ok 😀' }], d: null })).toBeUndefined();
    expect(findBodyProblem('text')).toBeUndefined();
  });

  it.each([
    ['NUL in a value', { a: { b: 'x\u0000y' } }, 'a.b'],
    ['a lone high surrogate', { list: ['ok', '\ud800'] }, 'list[1]'],
    ['a lone low surrogate', { s: 'a\udc00' }, 's'],
    ['NUL in a key', { outer: { 'k\u0000': 1 } }, 'outer'],
  ])('names the field with %s', (_, body, field) => {
    expect(findBodyProblem(body)).toMatchObject({
      field,
      message: expect.stringMatching(/NUL or an unpaired surrogate/),
    });
  });

  it('stops at 32 levels, without recursion (a 100,000-deep array does not overflow the stack)', () => {
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(findBodyProblem({ deep })).toMatchObject({ message: expect.stringMatching(/nested too deeply/) });
    let ok: unknown = 'leaf';
    for (let i = 0; i < 30; i++) ok = [ok];
    expect(findBodyProblem({ ok })).toBeUndefined();
  });
});
