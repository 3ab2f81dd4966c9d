import { webcrypto } from 'node:crypto';
import { Injectable } from '@nestjs/common';
// The platform's own identity provider (AUTH_JWKS_URL), not Microsoft: its key set is read here.
// eslint-disable-next-line no-restricted-imports
import { createRemoteJWKSet, errors, jwtVerify, JWTPayload, JWTVerifyOptions, JWTVerifyResult } from 'jose';
import { AppConfig } from '../config/app-config.js';
import { AppError } from '../common/errors.js';
import { hasUnstorableCharacter } from '../common/storable-text.js';
import { ORG_ID_PATTERN, Principal } from './principal.js';

const CHALLENGE = { 'www-authenticate': 'Bearer' };
const CLOCK_TOLERANCE_SECONDS = 5;
/** Claims stored in audit rows are bounded: a longer `sub` is refused, a longer `name` cut. */
const MAX_SUB_LENGTH = 256;
const MAX_NAME_LENGTH = 256;

/** Verifies API bearer tokens: HS256 with AUTH_JWT_SECRET, or RS256/ES256 against AUTH_JWKS_URL. */
@Injectable()
export class TokenVerifier {
  private readonly verifyJwt: (token: string, options: JWTVerifyOptions) => Promise<JWTVerifyResult>;

  constructor(private readonly config: AppConfig) {
    const auth = config.auth;
    if (auth.mode === 'hs256') {
      // The key is imported once: given the raw bytes, jose imports a CryptoKey on every call,
      // which cost more CPU than the signature check itself.
      const key = webcrypto.subtle.importKey('raw', auth.secret, { name: 'HMAC', hash: 'SHA-256' }, false, [
        'verify',
      ]);
      key.catch(() => undefined); // a failed import fails each verification instead, as 401
      this.verifyJwt = async (token, options) =>
        jwtVerify(token, await key, { ...options, algorithms: ['HS256'] });
    } else {
      const keys = createRemoteJWKSet(new URL(auth.jwksUrl));
      this.verifyJwt = (token, options) =>
        jwtVerify(token, keys, { ...options, algorithms: ['RS256', 'ES256'] });
    }
  }

  async verify(authorization: string | undefined): Promise<Principal> {
    if (!authorization) throw unauthorized('A bearer token is required (Authorization: Bearer <token>).');
    const match = /^Bearer +([A-Za-z0-9_.~+/=-]+)$/i.exec(authorization.trim());
    if (!match) throw unauthorized('The Authorization header must be "Bearer <token>".');
    const payload = await this.verifySignature(match[1]);
    return {
      ...principalFrom(payload),
      expires_at: payload.exp,
    };
  }

  private async verifySignature(token: string): Promise<JWTPayload> {
    const { issuer, audience, maxTokenAgeSeconds } = this.config.auth;
    // A token must expire, and may not live longer than AUTH_MAX_TOKEN_AGE: jose checks its age
    // from `iat`; its whole lifetime (exp - iat) is checked below.
    const options = {
      issuer,
      audience,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['exp', 'iat'],
      maxTokenAge: maxTokenAgeSeconds,
    };
    let payload: JWTPayload;
    try {
      ({ payload } = await this.verifyJwt(token, options));
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
    if (payload.exp! - payload.iat! > maxTokenAgeSeconds + CLOCK_TOLERANCE_SECONDS) {
      throw unauthorized(
        `The bearer token lives longer than the ${maxTokenAgeSeconds} s this service accepts (exp - iat).`,
      );
    }
    return payload;
  }
}

function principalFrom(payload: JWTPayload): Principal {
  const { sub, org_id: orgId, roles, name } = payload as JWTPayload & Record<string, unknown>;
  if (typeof sub !== 'string' || sub === '') throw unauthorized('The bearer token has no "sub" claim.');
  if (sub.length > MAX_SUB_LENGTH || hasUnstorableCharacter(sub)) {
    throw unauthorized(
      `The bearer token's "sub" claim must be at most ${MAX_SUB_LENGTH} characters, without NUL or unpaired surrogates.`,
    );
  }
  if (typeof name === 'string' && hasUnstorableCharacter(name)) {
    throw unauthorized('The bearer token\'s "name" claim has NUL or unpaired surrogate characters.');
  }
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
    name: typeof name === 'string' ? Array.from(name).slice(0, MAX_NAME_LENGTH).join('') : null,
  };
}

function unauthorized(message: string): AppError {
  return new AppError('unauthorized', message, { headers: CHALLENGE });
}
