import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, JWK, SignJWT } from 'jose';

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
type PublicKey = Awaited<ReturnType<typeof generateKeyPair>>['publicKey'];

/** The sandbox's token signing key (RS256), published like Entra's keys. */
export class SigningKey {
  private constructor(
    readonly kid: string,
    readonly privateKey: PrivateKey,
    readonly publicKey: PublicKey,
    readonly publicJwk: JWK,
  ) {}

  static async generate(): Promise<SigningKey> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = randomBytes(20).toString('base64url');
    const jwk = await exportJWK(publicKey);
    return new SigningKey(kid, privateKey, publicKey, {
      kty: 'RSA',
      use: 'sig',
      kid,
      x5t: kid,
      n: jwk.n,
      e: jwk.e,
    });
  }

  /** A v1-style app-only access token, as Entra issues for Dataverse. */
  async accessToken(input: {
    tenantId: string;
    clientId: string;
    objectId: string;
    resource: string;
    lifetimeSeconds: number;
    authentication?: 'secret' | 'certificate';
  }): Promise<{ token: string; expiresIn: number }> {
    const now = Math.floor(Date.now() / 1000);
    const issuer = `https://sts.windows.net/${input.tenantId}/`;
    const token = await new SignJWT({
      aio: randomBytes(48).toString('base64url'),
      appid: input.clientId,
      appidacr: input.authentication === 'certificate' ? '2' : '1',
      idp: issuer,
      idtyp: 'app',
      oid: input.objectId,
      rh: `0.${randomBytes(24).toString('base64url')}.`,
      tid: input.tenantId,
      uti: randomBytes(16).toString('base64url'),
      ver: '1.0',
    })
      .setProtectedHeader({ typ: 'JWT', alg: 'RS256', kid: this.kid, x5t: this.kid })
      .setAudience(input.resource)
      .setIssuer(issuer)
      .setSubject(input.objectId)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + input.lifetimeSeconds)
      .setJti(randomUUID())
      .sign(this.privateKey);
    return { token, expiresIn: input.lifetimeSeconds };
  }
}
