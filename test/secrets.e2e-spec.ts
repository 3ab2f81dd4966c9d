import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { loadConfig } from '../src/config/app-config.js';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import { rotateSecrets } from '../src/settings/key-rotation.js';
import { SecretCipher } from '../src/settings/secret-cipher.js';
import { startTestApp, testEnv, TestApp } from './support/app.js';
import { createTestDatabase, withClient } from './support/database.js';
import { call, credentialsOf, PATH } from './support/integration.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';
import { IntegrationSettings } from '../src/settings/settings.entity.js';

async function dumpDatabase(url: string): Promise<string> {
  return withClient(url, async (client) => {
    const tables = await client.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
    );
    let dump = '';
    for (const { table_name } of tables.rows) {
      const rows = await client.query<Record<string, unknown>>(`SELECT * FROM "${table_name}"`);
      for (const row of rows.rows) {
        // bytea columns as raw bytes, so a plaintext stored in them would be found too
        dump += Object.values(row)
          .map((v) => (Buffer.isBuffer(v) ? v.toString('latin1') : JSON.stringify(v)))
          .join('\t');
      }
    }
    return dump;
  });
}

describe('secrets never leak', () => {
  let ms: MicrosoftWorld;
  let t: TestApp;

  beforeAll(async () => {
    ms = await startMicrosoft();
    t = await startTestApp({ env: { ...ms.env, LOG_LEVEL: 'trace', VERIFY_RATE_LIMIT_PER_MINUTE: '1000' } });
  });
  afterAll(async () => {
    await t.close();
    await ms.sandbox.close();
  });

  it('keeps the plaintext secret and access tokens out of every log line, response and database column', async () => {
    const admin = await t.token({ org: 'leak-check' });
    const wrong = 'Wr0ng8Q~this-is-a-wrong-secret-value';
    const responses: string[] = [];
    const record = async (r: Promise<{ body: unknown; headers: Headers }>) => {
      const result = await r;
      responses.push(JSON.stringify(result.body) + JSON.stringify([...result.headers.entries()]));
    };
    const received = ms.mark();
    await record(call(t, 'PUT', PATH, admin, credentialsOf(ms)));
    await record(call(t, 'PUT', PATH, admin, credentialsOf(ms, { client_secret: wrong })));
    await record(call(t, 'POST', `${PATH}/test`, admin, credentialsOf(ms)));
    await record(call(t, 'POST', `${PATH}/verify`, admin));
    await record(call(t, 'GET', PATH, admin));
    await record(call(t, 'PUT', PATH, admin, { ...credentialsOf(ms), extra: ms.secret.value }));
    await record(call(t, 'DELETE', PATH, admin));
    await t.waitForLog(
      (l) => l.msg === 'request completed' && (l.req as { method?: string })?.method === 'DELETE',
    );

    const accessTokens = received()
      .map((r) => r.headers.authorization?.replace('Bearer ', ''))
      .filter((v): v is string => !!v);
    expect(accessTokens.length).toBeGreaterThan(0);
    const haystacks = {
      logs: t.rawLogs(),
      responses: responses.join('\n'),
      database: await dumpDatabase(t.databaseUrl),
    };
    for (const [where, text] of Object.entries(haystacks)) {
      for (const secret of [ms.secret.value, wrong, ...accessTokens]) {
        expect([where, text.includes(secret)]).toEqual([where, false]);
      }
    }
    expect(haystacks.logs.length).toBeGreaterThan(1000);
    // LOG_LEVEL=trace writes trace lines: one per Microsoft call, without its headers or body.
    const trace = t.logs.filter((l) => l.level === 10 && l.context === 'Microsoft');
    expect(trace.length).toBeGreaterThanOrEqual(received().length);
    expect(String(trace[0].msg)).toMatch(
      /^POST http:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]+\/oauth2\/v2\.0\/token → 200 in \d+ ms/,
    );
  });
});

describe('secrets at rest', () => {
  let ms: MicrosoftWorld;
  beforeAll(async () => {
    ms = await startMicrosoft();
  });
  afterAll(() => ms.sandbox.close());

  it('a ciphertext copied to another org’s row does not decrypt', async () => {
    const t = await startTestApp({ env: ms.env });
    try {
      await call(t, 'PUT', PATH, await t.token({ org: 'victim' }), credentialsOf(ms));
      await call(
        t,
        'PUT',
        PATH,
        await t.token({ org: 'attacker' }),
        credentialsOf(ms, { default_priority: 1 }),
      );
      await withClient(t.databaseUrl, (client) =>
        client.query(
          `UPDATE dynamics365_integration_settings SET client_secret_encrypted = v.client_secret_encrypted
           FROM dynamics365_integration_settings v WHERE v.org_id = 'victim' AND dynamics365_integration_settings.org_id = 'attacker'`,
        ),
      );
      const received = ms.mark();
      const result = await call(t, 'POST', `${PATH}/verify`, await t.token({ org: 'attacker' }));
      expect([result.status, result.body.error.code]).toEqual([409, 'conflict']);
      expect(result.body.error.message).toMatch(/cannot be decrypted.*Paste the secret again/);
      expect(received()).toEqual([]);
      expect(JSON.stringify(result.body)).not.toContain(ms.secret.value);
      const victim = await call(t, 'POST', `${PATH}/verify`, await t.token({ org: 'victim' }));
      expect(victim.body.status).toBe('active');
    } finally {
      await t.close();
    }
  });

  it('rotates keys: old rows decrypt under a two-key ring, keys:rotate moves them to the new key', async () => {
    const databaseUrl = await createTestDatabase('rotation');
    const k1 = `k1:${randomBytes(32).toString('base64')}`;
    const k2 = `k2:${randomBytes(32).toString('base64')}`;

    const before = await startTestApp({ databaseUrl, env: { ...ms.env, ENCRYPTION_KEYS: k1 } });
    for (const org of ['r1', 'r2']) {
      expect((await call(before, 'PUT', PATH, await before.token({ org }), credentialsOf(ms))).status).toBe(
        200,
      );
    }
    // r3 connects with a certificate: its private key is the row's credential, rotated alike.
    const r3 = await before.token({ org: 'r3' });
    const certificate = (await call(before, 'POST', `${PATH}/certificate`, r3, {})).body;
    ms.sandbox.model.addCertificate(ms.tenant.id, ms.app.clientId, {
      certificate: certificate.certificate_pem,
    });
    const { client_secret: _secret, ...withoutSecret } = credentialsOf(ms);
    const certificateSave = await call(before, 'PUT', PATH, r3, {
      ...withoutSecret,
      certificate_id: certificate.certificate_id,
    });
    expect(certificateSave.body).toMatchObject({ status: 'active', credential_type: 'certificate' });
    await before.close();

    const both = await startTestApp({ databaseUrl, env: { ...ms.env, ENCRYPTION_KEYS: `${k2},${k1}` } });
    try {
      expect((await call(both, 'POST', `${PATH}/verify`, await both.token({ org: 'r1' }))).body.status).toBe(
        'active',
      );
      const versionBefore = (await call(both, 'GET', PATH, await both.token({ org: 'r2' }))).body.version;

      const config = loadConfig(testEnv({ DATABASE_URL: databaseUrl, ENCRYPTION_KEYS: `${k2},${k1}` }));
      const dataSource = new DataSource(dataSourceOptions(databaseUrl, [IntegrationSettings]));
      await dataSource.initialize();
      try {
        const report = await rotateSecrets(dataSource, new SecretCipher(config), 2);
        expect(report).toEqual({ active_key_id: 'k2', rotated: 3, remaining_on_old_keys: {}, failed: [] });
        const again = await rotateSecrets(dataSource, new SecretCipher(config), 2);
        expect(again.rotated).toBe(0);
      } finally {
        await dataSource.destroy();
      }
      expect((await call(both, 'GET', PATH, await both.token({ org: 'r2' }))).body.version).toBe(
        versionBefore,
      );
    } finally {
      await both.close();
    }

    const onlyNew = await startTestApp({ databaseUrl, env: { ...ms.env, ENCRYPTION_KEYS: k2 } });
    try {
      for (const org of ['r2', 'r3']) {
        expect(
          (await call(onlyNew, 'POST', `${PATH}/verify`, await onlyNew.token({ org }))).body.status,
        ).toBe('active');
      }
    } finally {
      await onlyNew.close();
    }
  });

  it('reports rows whose key is missing at start-up (log, health, metric, status) and answers verify with 409', async () => {
    const databaseUrl = await createTestDatabase('missing-key');
    const k1 = `k1:${randomBytes(32).toString('base64')}`;
    const k2 = `k2:${randomBytes(32).toString('base64')}`;
    const before = await startTestApp({ databaseUrl, env: { ...ms.env, ENCRYPTION_KEYS: k1 } });
    await call(before, 'PUT', PATH, await before.token({ org: 'lost-key' }), credentialsOf(ms));
    await before.close();

    const after = await startTestApp({ databaseUrl, env: { ...ms.env, ENCRYPTION_KEYS: k2 } });
    try {
      const line = await after.waitForLog((l) => String(l.msg).includes('cannot be decrypted: key(s) k1'));
      expect(line.level).toBe(50);
      const health = (await (await after.request('/health/ready')).json()) as Record<string, any>;
      expect([health.status, health.info.secrets]).toEqual([
        'ok',
        { status: 'up', undecryptable: 1, missing_key_ids: ['k1'] },
      ]);
      expect(await (await after.request('/metrics')).text()).toMatch(
        /^dynamics365_secrets_undecryptable 1$/m,
      );
      const token = await after.token({ org: 'lost-key' });
      expect((await call(after, 'GET', PATH, token)).body.warnings).toEqual(['secret_undecryptable']);
      const received = ms.mark();
      const verify = await call(after, 'POST', `${PATH}/verify`, token);
      expect([verify.status, verify.body.error.code]).toEqual([409, 'conflict']);
      expect(received()).toEqual([]);
      // Pasting the secret again stores it under the key this instance has.
      expect((await call(after, 'PUT', PATH, token, credentialsOf(ms))).body.warnings).toEqual([]);
    } finally {
      await after.close();
    }
  });
});
