import { Injectable } from '@nestjs/common';
import { createRemoteJWKSet, errors, jwtVerify, JWTPayload, JWTVerifyGetKey } from 'jose';
import { AppConfig } from '../config/app-config.js';
import { AppError } from '../common/errors.js';
import { ORG_ID_PATTERN, Principal } from './principal.js';

const CHALLENGE = { 'www-authenticate': 'Bearer' };

/** Verifies API bearer tokens: HS256 with AUTH_JWT_SECRET, or RS256/ES256 against AUTH_JWKS_URL. */
@Injectable()
export class TokenVerifier {
  private readonly key: Uint8Array | JWTVerifyGetKey;
  private readonly algorithms: string[];

  constructor(private readonly config: AppConfig) {
    const auth = config.auth;
    if (auth.mode === 'hs256') {
      this.key = auth.secret;
      this.algorithms = ['HS256'];
    } else {
      this.key = createRemoteJWKSet(new URL(auth.jwksUrl));
      this.algorithms = ['RS256', 'ES256'];
    }
  }

  async verify(authorization: string | undefined): Promise<Principal> {
    if (!authorization) throw unauthorized('A bearer token is required (Authorization: Bearer <token>).');
    const match = /^Bearer +([A-Za-z0-9_.~+/=-]+)$/i.exec(authorization.trim());
    if (!match) throw unauthorized('The Authorization header must be "Bearer <token>".');
    const payload = await this.verifySignature(match[1]);
    return principalFrom(payload);
  }

  private async verifySignature(token: string): Promise<JWTPayload> {
    const { issuer, audience } = this.config.auth;
    const options = { algorithms: this.algorithms, issuer, audience, clockTolerance: 5 };
    try {
      const { payload } =
        this.key instanceof Uint8Array
          ? await jwtVerify(token, this.key, options)
          : await jwtVerify(token, this.key, options);
      return payload;
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw unauthorized('The bearer token has expired.');
      if (error instanceof errors.JWTClaimValidationFailed) {
        throw unauthorized(`The bearer token's "${error.claim}" claim is not accepted.`);
      }
      if (error instanceof errors.JOSEError && error.code === 'ERR_JWKS_TIMEOUT') {
        throw new AppError('unavailable', 'The identity provider keys could not be fetched; try again.');
      }
      throw unauthorized('The bearer token is not valid.');
    }
  }
}

function principalFrom(payload: JWTPayload): Principal {
  const { sub, org_id: orgId, roles, name } = payload as JWTPayload & Record<string, unknown>;
  if (typeof sub !== 'string' || sub === '') throw unauthorized('The bearer token has no "sub" claim.');
  if (typeof orgId !== 'string' || !ORG_ID_PATTERN.test(orgId)) {
    throw unauthorized('The bearer token has no valid "org_id" claim.');
  }
  if (roles !== undefined && (!Array.isArray(roles) || roles.some((r) => typeof r !== 'string'))) {
    throw unauthorized('The bearer token\'s "roles" claim must be an array of strings.');
  }
  return {
    sub,
    org_id: orgId,
    roles: (roles as string[] | undefined) ?? [],
    name: typeof name === 'string' ? name : null,
  };
}

function unauthorized(message: string): AppError {
  return new AppError('unauthorized', message, { headers: CHALLENGE });
}
