import { webcrypto } from 'node:crypto';
import { AppRegistration, Environment, Secret, Tenant } from './model.js';
import { Sandbox, startSandbox } from './server.js';

/** A sandbox with one tenant, one working app and one environment, for the sandbox's own tests. */
export interface World {
  sandbox: Sandbox;
  tenant: Tenant;
  app: AppRegistration;
  secret: Secret;
  environment: Environment;
  tokenUrl: (tenant?: string) => string;
  requestToken: (fields: Record<string, string | undefined>, tenant?: string) => Promise<Response>;
  accessToken: () => Promise<string>;
}

export async function startWorld(): Promise<World> {
  const sandbox = await startSandbox();
  const tenant = sandbox.model.createTenant({ name: 'Contoso', domains: ['contoso.onmicrosoft.com'] });
  const app = sandbox.model.createApp(tenant.id, { name: 'Connector' });
  const secret = sandbox.model.addSecret(tenant.id, app.clientId);
  const environment = await sandbox.addEnvironment({ name: 'contoso', tenantId: tenant.id });
  sandbox.model.addApplicationUser('contoso', { clientId: app.clientId, privileges: 'all' });
  const tokenUrl = (t = tenant.id) => `${sandbox.loginUrl}/${t}/oauth2/v2.0/token`;
  const requestToken = (fields: Record<string, string | undefined>, t?: string) => {
    const form = new URLSearchParams();
    const merged: Record<string, string | undefined> = {
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: secret.value,
      scope: `${environment.origin}/.default`,
      ...fields,
    };
    for (const [k, v] of Object.entries(merged)) if (v !== undefined) form.set(k, v);
    return fetch(tokenUrl(t), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
      body: form,
    });
  };
  const accessToken = async () => {
    const response = await requestToken({});
    return ((await response.json()) as { access_token: string }).access_token;
  };
  return { sandbox, tenant, app, secret, environment, tokenUrl, requestToken, accessToken };
}

/**
 * A self-signed RSA certificate and its key, as an admin would make one for an app registration
 * (tests of certificate credentials; the service makes its own with the same library).
 */
export async function testCertificate(
  options: { bits?: number; days?: number } = {},
): Promise<{ certificatePem: string; privateKeyPem: string }> {
  await import('reflect-metadata'); // @peculiar/x509's dependency injection needs it
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const algorithm = {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: options.bits ?? 2048,
  };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=sandbox test',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + (options.days ?? 365) * 86_400_000),
    signingAlgorithm: algorithm,
    keys,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  return {
    certificatePem: certificate.toString('pem'),
    privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${pkcs8.replace(/.{64}/g, '$&\n')}\n-----END PRIVATE KEY-----\n`,
  };
}
