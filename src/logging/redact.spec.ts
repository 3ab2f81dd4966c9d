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

describe('certificate credentials', () => {
  it('redacts private keys, PKCS#12 files and client assertions by field and inside text', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIEv\nQ==\n-----END PRIVATE KEY-----\n';
    const out = redactDeep({
      private_key_pem: pem,
      privateKeyPem: pem,
      pfx: 'MIIK',
      pfx_password: 'pw',
      client_assertion: 'eyJx.eyJy.z',
      msg: `could not read ${pem} and client_assertion=eyJa.eyJb.c`,
      certificate_pem: '-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----',
    });
    expect(out).toMatchObject({
      private_key_pem: REDACTED,
      privateKeyPem: REDACTED,
      pfx: REDACTED,
      pfx_password: REDACTED,
      client_assertion: REDACTED,
    });
    expect(out.msg).not.toMatch(/MIIEv|eyJa/);
    // The public certificate is not secret.
    expect(out.certificate_pem).toContain('MIIC');
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
