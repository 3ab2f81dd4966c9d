import { SignJWT } from 'jose';
import type { AppConfig } from '../config/app-config.js';

export interface DevTokenRequest {
  org: string;
  roles: string[];
  sub: string;
  name?: string;
  ttlSeconds: number;
}

/** Signs an HS256 API token with the configured secret (development and tests only). */
export async function signDevToken(config: AppConfig, request: DevTokenRequest): Promise<string> {
  if (config.auth.mode !== 'hs256') throw new Error('tokens can only be signed with AUTH_JWT_SECRET (HS256)');
  let jwt = new SignJWT({
    org_id: request.org,
    roles: request.roles,
    ...(request.name ? { name: request.name } : {}),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(request.sub)
    .setIssuedAt()
    .setExpirationTime(`${request.ttlSeconds}s`);
  if (config.auth.issuer) jwt = jwt.setIssuer(config.auth.issuer);
  if (config.auth.audience) jwt = jwt.setAudience(config.auth.audience);
  return jwt.sign(config.auth.secret);
}
