import { redactDeep, REDACTED } from './redact.js';

describe('redactDeep', () => {
  it('replaces secret-, token- and password-like fields at any depth', () => {
    const input = {
      msg: 'saving',
      client_secret: 's3cr3t',
      body: { nested: { accessToken: 'eyJ...', list: [{ password: 'p' }, { refresh_token: 'r' }] } },
      headers: { authorization: 'Bearer abc', 'user-agent': 'curl' },
      client_id: '1c8f',
    };
    expect(redactDeep(input)).toEqual({
      msg: 'saving',
      client_secret: REDACTED,
      body: {
        nested: { accessToken: REDACTED, list: [{ password: REDACTED }, { refresh_token: REDACTED }] },
      },
      headers: { authorization: REDACTED, 'user-agent': 'curl' },
      client_id: '1c8f',
    });
  });

  it('does not modify its input', () => {
    const input = { token: 't' };
    redactDeep(input);
    expect(input.token).toBe('t');
  });
});

describe('redactDeep on free text', () => {
  it('scrubs key=value and JSON-style secrets inside strings and errors', () => {
    const error = new Error(
      'failed: client_secret=hunter2&scope=x {"access_token":"eyJabc"} Authorization: Bearer eyJdef',
    );
    const out = redactDeep({ err: error, msg: 'password: p4ss, user=bob' });
    expect(out.err).toBeInstanceOf(Error);
    for (const text of [out.err.message, out.err.stack, out.msg]) {
      expect(text).not.toMatch(/hunter2|eyJabc|eyJdef|p4ss/);
    }
    expect(out.msg).toContain('user=bob');
    expect(out.err.message).toContain('scope=x');
  });
});

it('keeps the error class and redacts its enumerable fields', () => {
  class UpstreamError extends Error {
    constructor(
      readonly clientSecret: string,
      readonly status: number,
    ) {
      super('upstream said no');
    }
  }
  const out = redactDeep(new UpstreamError('hunter2', 401));
  expect(out).toBeInstanceOf(UpstreamError);
  expect(out).toMatchObject({ clientSecret: REDACTED, status: 401, message: 'upstream said no' });
});

it('leaves class instances to the serializers', () => {
  const date = new Date(0);
  const instance = new (class Socket {
    token = 'x';
  })();
  const out = redactDeep({ date, instance });
  expect(out.date).toBe(date);
  expect(out.instance).toBe(instance);
});

it('hides the bound values of a failed query', () => {
  const error = Object.assign(new Error('invalid input syntax'), {
    query: 'SELECT 1 WHERE x = $1',
    parameters: ['s3cr3t-value'],
  });
  const out = redactDeep({ err: error });
  expect(out.err).toMatchObject({ query: 'SELECT 1 WHERE x = $1', parameters: REDACTED });
});
