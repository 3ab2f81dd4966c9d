import { compactVerify, decodeJwt, decodeProtectedHeader, type JWTPayload } from 'jose';
import type { AppRegistration, SandboxModel } from './model.js';

/**
 * Entra ID's checks of a certificate client assertion (RFC 7523, Microsoft's "certificate
 * credentials": header `alg` PS256 or RS256, `x5t#S256` or `x5t`; claims `aud` = the token
 * endpoint, `iss` = `sub` = the client id, `exp`, `nbf`, `jti`), with the AADSTS codes and texts
 * Microsoft's libraries and their tests record:
 *   5002738 unsupported algorithm · 5002723 no thumbprint · 90014 a required claim missing ·
 *   700023 wrong audience · 700021 iss/sub not the client id · 700024 outside its time range ·
 *   700027 certificate not registered, or the signature does not verify · 7000274 the registered
 *   certificate is outside its validity (named CertificateNotWithinValidityPeriod in
 *   Microsoft.Identity.Web; its text is ours).
 * Where Microsoft documents no code (a malformed JWT, a wrong client_assertion_type) the answer is
 * Entra's generic one for a malformed request, never an acceptance. A reused assertion (same `jti`)
 * is accepted, as Entra does — MSAL Node sends the same assertion for 10 minutes — and counted.
 */

export interface AssertionError {
  status: number;
  error: string;
  code: number;
  message: string;
}

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256'];
/** Clock skew Entra allows on `nbf` and `exp` (inferred; the token's own skew is 5 minutes). */
const SKEW_SECONDS = 300;
const DOCS =
  'https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials';

const invalidClient = (code: number, message: string): AssertionError => ({
  status: 401,
  error: 'invalid_client',
  code,
  message,
});

/** `2023-12-11T23:52:19.6223401Z`: Entra's seven fractional digits. */
const entraTime = (seconds: number) =>
  new Date(seconds * 1000).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');

export async function checkClientAssertion(
  model: SandboxModel,
  app: AppRegistration,
  form: Record<string, string>,
  tokenUrls: string[],
): Promise<AssertionError | null> {
  if (form.client_secret !== undefined || form.client_assertion_type !== JWT_BEARER) {
    return {
      status: 400,
      error: 'invalid_request',
      code: 9002313,
      message: `Invalid request. Request is malformed or invalid. (${form.client_secret !== undefined ? 'client_secret and client_assertion together' : `client_assertion_type must be ${JWT_BEARER}`})`,
    };
  }
  let header: ReturnType<typeof decodeProtectedHeader>;
  let claims: JWTPayload;
  try {
    header = decodeProtectedHeader(form.client_assertion);
    claims = decodeJwt(form.client_assertion);
  } catch {
    return invalidClient(50027, 'JWT token is invalid or malformed.');
  }
  if (!header.alg || !ALGORITHMS.includes(header.alg)) {
    return invalidClient(
      5002738,
      `Invalid JWT token. '${header.alg ?? ''}' is not a supported signature algorithm. Supported signing algorithms are: '${ALGORITHMS.join(',')}'`,
    );
  }
  const sha256 = typeof header['x5t#S256'] === 'string' ? header['x5t#S256'] : undefined;
  const sha1 = typeof header.x5t === 'string' ? header.x5t : undefined;
  if (!sha256 && !sha1) {
    return invalidClient(
      5002723,
      'Invalid JWT token. No certificate SHA-1 thumbprint, certificate SHA-256 thumbprint, nor keyId specified in token header.',
    );
  }
  if (claims.aud === undefined) {
    return {
      status: 400,
      error: 'invalid_request',
      code: 90014,
      message:
        "The required field 'aud' is missing from the credential. Ensure that you have all the necessary parameters for the login request.",
    };
  }
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.some((aud) => tokenUrls.includes(aud))) {
    return invalidClient(
      700023,
      `Client assertion audience claim does not match Realm issuer. Review the documentation at ${DOCS} .`,
    );
  }
  if (claims.iss !== app.clientId || claims.sub !== app.clientId) {
    return invalidClient(
      700021,
      `Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at ${DOCS} .`,
    );
  }
  const now = Math.floor(Date.now() / 1000);
  const notBefore = typeof claims.nbf === 'number' ? claims.nbf : (claims.iat ?? 0);
  const expiry = typeof claims.exp === 'number' ? claims.exp : 0;
  if (notBefore > now + SKEW_SECONDS || expiry < now - SKEW_SECONDS) {
    return invalidClient(
      700024,
      `Client assertion is not within its valid time range. Current time: ${entraTime(now)}, assertion valid from ${entraTime(notBefore)}, expiry time of assertion ${entraTime(expiry)}. Review the documentation at ${DOCS} .`,
    );
  }
  const used = sha256 ?? Buffer.from(sha1!, 'base64url').toString('hex').toUpperCase();
  const certificate = app.certificates.find((c) =>
    sha256 ? c.thumbprintSha256 === sha256 : c.thumbprint === used,
  );
  const graph = `Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${app.clientId}'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments to determine the corresponding service endpoint and https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http to build a query request URL, such as 'https://graph.microsoft.com/beta/applications/${app.objectId}'`;
  if (!certificate) {
    return invalidClient(
      700027,
      `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${thumbprintOf(used, sha256)}', ${graph}]`,
    );
  }
  try {
    await compactVerify(form.client_assertion, certificate.publicKey, { algorithms: ALGORITHMS });
  } catch {
    return invalidClient(
      700027,
      `Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '${certificate.thumbprint}', Found key 'Start=${usDate(certificate.startDate)}, End=${usDate(certificate.endDate)}', ${graph}]`,
    );
  }
  if (certificate.endDate.getTime() < Date.now() || certificate.startDate.getTime() > Date.now()) {
    return invalidClient(
      7000274,
      `The certificate used to sign the client assertion is not within its validity period. Thumbprint of key used by client: '${certificate.thumbprint}', Found key 'Start=${usDate(certificate.startDate)}, End=${usDate(certificate.endDate)}'. Upload a valid certificate for app '${app.clientId}'.`,
    );
  }
  recordJti(model, claims.jti, expiry);
  return null;
}

/** The thumbprint as the client named it: SHA-1 upper-case hex, or the SHA-256 one as sent. */
function thumbprintOf(used: string, sha256: string | undefined): string {
  return sha256 ? Buffer.from(sha256, 'base64url').toString('hex').toUpperCase() : used;
}

/** `11/27/2024 09:04:39`: how Entra's messages print a key's dates. */
function usDate(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCMonth() + 1)}/${pad(date.getUTCDate())}/${date.getUTCFullYear()} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
}

function recordJti(model: SandboxModel, jti: string | undefined, expiry: number): void {
  if (!jti) return;
  const now = Math.floor(Date.now() / 1000);
  for (const [seen, until] of model.assertionsSeen) if (until < now) model.assertionsSeen.delete(seen);
  if (model.assertionsSeen.has(jti)) model.assertionReuses++;
  else model.assertionsSeen.set(jti, expiry);
}
