import { createHash, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { testCertificate } from '../sandbox/testing.js';
import { RevalidationService } from '../src/revalidation/revalidation.service.js';
import { startTestApp, TestApp } from './support/app.js';
import { HANDOFF_TEST_ENV, handoffBody, submit, waitForState } from './support/handoff.js';
import { auditEvents, call, PATH, settingsRow } from './support/integration.js';
import { withClient } from './support/database.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';

/**
 * Certificate credentials end to end (DESIGN §15): a key pair made by the service, its certificate
 * uploaded to the app registration (the sandbox's control API stands in for the Azure portal), Test
 * & Save with a client assertion, verify, the nightly sweep, a handoff, rotation to a second
 * certificate, expiry, disconnect — and never a private key in an answer, a log line or an audit row.
 */
describe('certificate credentials', () => {
  let ms: MicrosoftWorld;
  let t: TestApp;
  let admin: string;
  const ORG = 'certs';

  beforeAll(async () => {
    ms = await startMicrosoft();
    t = await startTestApp({ env: { ...ms.env, ...HANDOFF_TEST_ENV, VERIFY_RATE_LIMIT_PER_MINUTE: '100' } });
    admin = await t.token({ org: ORG });
  });
  afterAll(async () => {
    await t?.close();
    await ms?.sandbox.close();
  });

  const upload = (pem: string, endDate?: Date) =>
    ms.sandbox.model.addCertificate(ms.tenant.id, ms.app.clientId, { certificate: pem, endDate });
  const connection = (certificateId: string) => ({
    client_id: ms.app.clientId,
    certificate_id: certificateId,
    tenant_id: ms.tenant.id,
    environment_url: ms.environment.origin,
  });
  const newCertificate = async () => {
    const created = await call(t, 'POST', `${PATH}/certificate`, admin, {});
    expect(created.status).toBe(201);
    return created.body as {
      certificate_id: string;
      certificate_pem: string;
      thumbprint: string;
      not_after: string;
    };
  };

  it('connects with a generated certificate once it is uploaded, signing a fresh assertion each time', async () => {
    const certificate = await newCertificate();
    expect(certificate).toMatchObject({ source: 'generated', subject: `CN=dynamics365-connector ${ORG}` });
    expect(certificate.certificate_pem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(JSON.stringify(certificate)).not.toContain('PRIVATE KEY');
    expect(new Date(certificate.not_after).getTime()).toBeGreaterThan(Date.now() + 700 * 86_400_000);

    // Not uploaded yet: Entra refuses the assertion; the hint names the thumbprint; nothing is saved.
    const refused = await call(t, 'PUT', PATH, admin, connection(certificate.certificate_id));
    expect(refused.status).toBe(422);
    expect(refused.body.error.verification).toMatchObject({
      stage: 'token_exchange',
      upstream_code: 'AADSTS700027',
      field: 'certificate_id',
    });
    expect(refused.body.error.verification.hint).toContain(certificate.thumbprint);
    expect((await call(t, 'GET', PATH, admin)).status).toBe(404);

    upload(certificate.certificate_pem);
    const mark = ms.mark();
    const saved = await call(t, 'PUT', PATH, admin, connection(certificate.certificate_id));
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({
      status: 'active',
      credential_type: 'certificate',
      certificate_id: certificate.certificate_id,
      client_secret_hint: certificate.thumbprint.slice(0, 6),
      secret_expires_at: certificate.not_after,
      certificate: { thumbprint: certificate.thumbprint, not_after: certificate.not_after },
    });
    // The token request: a client assertion as Microsoft describes it, no secret.
    const tokenRequest = mark().find((r) => r.server === 'login' && r.form?.client_assertion)!;
    expect(tokenRequest.form).not.toHaveProperty('client_secret');
    const assertion = tokenRequest.form!.client_assertion;
    expect(decodeProtectedHeader(assertion)).toMatchObject({ alg: 'PS256', typ: 'JWT' });
    expect(decodeProtectedHeader(assertion)['x5t#S256']).toBeDefined();
    const claims = decodeJwt(assertion);
    expect(claims).toMatchObject({
      aud: `${ms.sandbox.loginUrl}/${ms.tenant.id}/oauth2/v2.0/token`,
      iss: ms.app.clientId,
      sub: ms.app.clientId,
    });
    expect(claims.exp! - claims.nbf!).toBe(300);

    // Verify now and the nightly sweep use it; each exchange signs a new assertion (no reuse).
    const reuses = ms.sandbox.model.assertionReuses;
    expect((await call(t, 'POST', `${PATH}/verify`, admin)).body.status).toBe('active');
    await t.app.get(RevalidationService).sweep('manual');
    expect((await call(t, 'GET', PATH, admin)).body.last_verification.outcome).toBe('ok');
    expect(ms.sandbox.model.assertionReuses).toBe(reuses);

    // A handoff is delivered with it.
    const handoffToken = await t.token({ org: ORG });
    expect((await submit(t, handoffToken, handoffBody('cert-1'))).status).toBe(202);
    await waitForState(t, handoffToken, 'cert-1', ['delivered']);

    // The stored row holds no key in the clear; the audit says certificate and thumbprint only.
    const row = await settingsRow(t, ORG);
    expect(row).toMatchObject({ credential_type: 'certificate', certificate_id: certificate.certificate_id });
    expect((row!.client_secret_encrypted as Buffer).toString('latin1')).not.toContain('PRIVATE KEY');
    const events = await auditEvents(t, ORG);
    expect(events.map((e) => e.action)).toEqual(
      expect.arrayContaining([
        'integration.certificate_created',
        'integration.save_rejected',
        'integration.saved',
      ]),
    );
    const saveEvent = events.find((e) => e.action === 'integration.saved')!;
    expect(saveEvent.details).toMatchObject({
      credential_type: 'certificate',
      certificate_thumbprint: certificate.thumbprint,
    });
    expect(JSON.stringify(events)).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
    expect(t.rawLogs()).not.toMatch(/PRIVATE KEY|client_assertion=|eyJ[A-Za-z0-9_-]{20,}\.eyJ/);
  });

  it('rotates: a second certificate works beside the first, Test & Save switches, the old one can go', async () => {
    const before = (await call(t, 'GET', PATH, admin)).body;
    const second = await newCertificate();
    upload(second.certificate_pem);
    const saved = await call(t, 'PUT', PATH, admin, connection(second.certificate_id), {
      'if-match': `"${before.version}"`,
    });
    expect(saved.status).toBe(200);
    expect(saved.body.certificate.thumbprint).toBe(second.thumbprint);
    const rotation = (await auditEvents(t, ORG)).filter((e) => e.action === 'integration.saved').at(-1)!;
    expect(rotation.details).toMatchObject({
      secret_rotated: true,
      certificate_thumbprint: second.thumbprint,
      previous_certificate_thumbprint: before.certificate.thumbprint,
    });
    // The first certificate removed from Azure: the connection still verifies.
    const first = ms.sandbox.model
      .app(ms.tenant.id, ms.app.clientId)
      .certificates.find((c) => c.thumbprint === before.certificate.thumbprint)!;
    ms.sandbox.model.removeCertificate(ms.tenant.id, ms.app.clientId, first.keyId);
    expect((await call(t, 'POST', `${PATH}/verify`, admin)).body.status).toBe('active');
    // The one in use can be downloaded again; the pending one is gone (taken by the save).
    const again = await call(t, 'GET', `${PATH}/certificate/${second.certificate_id}`, admin);
    expect(again.body).toMatchObject({ source: 'stored', thumbprint: second.thumbprint });
    // The .cer file (DER) for the portal's Upload certificate.
    const cer = await t.request(`${PATH}/certificate/${second.certificate_id}`, {
      token: admin,
      headers: { accept: 'application/pkix-cert' },
    });
    expect(cer.headers.get('content-type')).toBe('application/pkix-cert');
    expect(cer.headers.get('content-disposition')).toBe(
      `attachment; filename="dynamics365-connector-${second.thumbprint.slice(0, 8)}.cer"`,
    );
    const der = Buffer.from(await cer.arrayBuffer());
    expect(createHash('sha1').update(der).digest('hex').toUpperCase()).toBe(second.thumbprint);
  });

  it('an expired certificate turns the connection invalid with Microsoft’s code and the hint', async () => {
    const current = (await call(t, 'GET', PATH, admin)).body;
    const uploaded = ms.sandbox.model
      .app(ms.tenant.id, ms.app.clientId)
      .certificates.find((c) => c.thumbprint === current.certificate.thumbprint)!;
    uploaded.endDate = new Date(Date.now() - 1000);
    const verified = await call(t, 'POST', `${PATH}/verify`, admin);
    expect(verified.body.status).toBe('invalid');
    expect(verified.body.last_verification).toMatchObject({ upstream_code: 'AADSTS7000274' });
    expect(verified.body.last_verification.hint).toContain('outside its validity period');
    expect(verified.body.warnings).toContain('secret_expired');
    uploaded.endDate = new Date(Date.now() + 86_400_000);
  });

  it('imports a certificate with its key; refuses a key that is not the certificate’s, before any call', async () => {
    const pair = await testCertificate();
    const other = await testCertificate();
    const mark = ms.mark();
    const mismatched = await call(t, 'POST', `${PATH}/certificate`, admin, {
      certificate_pem: pair.certificatePem,
      private_key_pem: other.privateKeyPem,
    });
    expect(mismatched.status).toBe(400);
    expect(mismatched.body.error.details).toEqual([
      { field: 'private_key_pem', message: 'private_key_pem is not the key of this certificate' },
    ]);
    const small = await testCertificate({ bits: 1024 });
    const weak = await call(t, 'POST', `${PATH}/certificate`, admin, {
      certificate_pem: small.certificatePem,
      private_key_pem: small.privateKeyPem,
    });
    expect(weak.body.error.details[0].field).toBe('certificate_pem');
    const imported = await call(t, 'POST', `${PATH}/certificate`, admin, {
      certificate_pem: pair.certificatePem,
      private_key_pem: pair.privateKeyPem,
    });
    expect(imported.status).toBe(201);
    expect(imported.body.source).toBe('imported');
    // A PKCS#12 file (AES-256, as OpenSSL 3 makes them), with its password; a wrong one is named.
    const p12 = forge.pkcs12.toPkcs12Asn1(
      forge.pki.privateKeyFromPem(other.privateKeyPem),
      [forge.pki.certificateFromPem(other.certificatePem)],
      's3cret',
      { algorithm: 'aes256' },
    );
    const pfx = Buffer.from(forge.asn1.toDer(p12).getBytes(), 'binary').toString('base64');
    const fromPfx = await call(t, 'POST', `${PATH}/certificate`, admin, { pfx, pfx_password: 's3cret' });
    expect(fromPfx.status).toBe(201);
    expect(fromPfx.body.thumbprint).toBe(
      createHash('sha1').update(new X509Certificate(other.certificatePem).raw).digest('hex').toUpperCase(),
    );
    const wrongPassword = await call(t, 'POST', `${PATH}/certificate`, admin, { pfx, pfx_password: 'nope' });
    expect(wrongPassword.body.error.details).toEqual([
      { field: 'pfx_password', message: 'pfx_password does not open this PKCS#12 file' },
    ]);
    expect(mark()).toEqual([]);
    // A secret and a certificate at once: 400 before Microsoft is called.
    const both = await call(t, 'PUT', PATH, admin, {
      ...connection(imported.body.certificate_id),
      client_secret: ms.secret.value,
    });
    expect(both.status).toBe(400);
    expect(mark()).toEqual([]);
    const unknown = await call(t, 'PUT', PATH, admin, connection('d0d0d0d0-0000-4000-8000-000000000009'));
    expect(unknown.body.error.details[0].field).toBe('certificate_id');
    // A certificate not saved within 7 days is no longer offered.
    await withClient(t.databaseUrl, (client) =>
      client.query(
        "UPDATE dynamics365_pending_certificates SET created_at = now() - interval '8 days' WHERE id = $1",
        [imported.body.certificate_id],
      ),
    );
    const stale = await call(t, 'PUT', PATH, admin, connection(imported.body.certificate_id));
    expect([stale.status, stale.body.error.details[0].field]).toEqual([400, 'certificate_id']);
    expect(mark()).toEqual([]);
  });

  it('back to a client secret, then disconnect: the certificate and the unsaved ones are gone', async () => {
    const current = (await call(t, 'GET', PATH, admin)).body;
    const secret = await call(
      t,
      'PUT',
      PATH,
      admin,
      {
        client_id: ms.app.clientId,
        client_secret: ms.secret.value,
        tenant_id: ms.tenant.id,
        environment_url: ms.environment.origin,
      },
      { 'if-match': `"${current.version}"` },
    );
    expect(secret.body).toMatchObject({
      credential_type: 'client_secret',
      certificate: null,
      certificate_id: null,
    });
    const pending = await newCertificate();
    expect((await call(t, 'DELETE', PATH, admin)).status).toBe(204);
    expect((await call(t, 'GET', `${PATH}/certificate/${pending.certificate_id}`, admin)).status).toBe(404);
  });
});
