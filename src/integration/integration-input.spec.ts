import { AppError } from '../common/errors.js';
import type { IntegrationSettings } from '../settings/settings.entity.js';
import { checkIfMatch, resolveInput } from './integration-input.js';
import type { IntegrationCredentialsDto } from './integration.dto.js';

const required = {
  client_id: '1C8F2A4E-3B5D-4E6F-8A9B-0C1D2E3F4A5B',
  tenant_id: 'Contoso.onmicrosoft.com',
  environment_url: 'https://Contoso.crm.dynamics.com/',
};
const stored = {
  secretExpiresAt: new Date('2027-01-01T00:00:00Z'),
  defaultPriority: 3,
  defaultOwnerId: 'c0c0c0c0-0000-4000-8000-00000000000a',
  defaultQueueId: 'c0c0c0c0-0000-4000-8000-00000000000b',
  defaultWorkstreamId: null,
  ticketProperties: { casetypecode: 1 },
  version: 4,
} as unknown as IntegrationSettings;
const resolve = (dto: Partial<IntegrationCredentialsDto>, existing: IntegrationSettings | null = stored) =>
  resolveInput(
    { ...required, ...dto },
    existing,
    () => ({ type: 'client_secret', secret: 'stored-secret' }),
    null,
    [],
  );

function problemsOf(work: () => unknown): string[] {
  try {
    work();
  } catch (error) {
    return ((error as AppError).extra.details ?? []).map((d) => d.field);
  }
  throw new Error('expected a validation error');
}

describe('resolveInput', () => {
  it('normalises the credentials', () => {
    expect(resolve({ client_secret: 'new' }).credentials).toEqual({
      clientId: '1c8f2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b',
      tenantId: 'contoso.onmicrosoft.com',
      environmentUrl: 'https://contoso.crm.dynamics.com',
      credential: { type: 'client_secret', secret: 'new' },
      messagingScope: undefined,
      // What readiness checks besides the credentials: the stored defaults it would use.
      readiness: {
        defaultOwnerId: 'c0c0c0c0-0000-4000-8000-00000000000a',
        defaultQueueId: 'c0c0c0c0-0000-4000-8000-00000000000b',
        defaultWorkstreamId: null,
        messaging: null,
      },
    });
  });

  it('keeps the stored secret and settings when omitted', () => {
    const input = resolve({});
    expect(input).toMatchObject({
      credentialGiven: null,
      secretExpiresAt: stored.secretExpiresAt,
      defaultPriority: 3,
      defaultOwnerId: stored.defaultOwnerId,
      defaultQueueId: stored.defaultQueueId,
      ticketProperties: { casetypecode: 1 },
    });
    expect(input.credentials.credential).toEqual({ type: 'client_secret', secret: 'stored-secret' });
  });

  it('clears with null, priority back to 2', () => {
    expect(
      resolve({
        secret_expires_at: null,
        default_priority: null,
        default_owner_id: null,
        default_queue_id: null,
        ticket_properties: null,
      }),
    ).toMatchObject({
      secretExpiresAt: null,
      defaultPriority: 2,
      defaultOwnerId: null,
      defaultQueueId: null,
      ticketProperties: {},
    });
  });

  it('takes new values, GUIDs lower-cased', () => {
    expect(
      resolve({ default_owner_id: 'AAAAAAAA-0000-4000-8000-000000000001', default_priority: 1 }),
    ).toMatchObject({
      defaultOwnerId: 'aaaaaaaa-0000-4000-8000-000000000001',
      defaultPriority: 1,
    });
  });

  it('defaults everything on a first save', () => {
    expect(resolve({ client_secret: 's' }, null)).toMatchObject({
      secretExpiresAt: null,
      defaultPriority: 2,
      defaultOwnerId: null,
      ticketProperties: {},
    });
  });

  it('refuses a first save without a secret, and an environment URL outside the allowed set', () => {
    expect(problemsOf(() => resolve({}, null))).toEqual(['client_secret']);
    expect(
      problemsOf(() => resolve({ client_secret: 's', environment_url: 'https://evil.example' })),
    ).toEqual(['environment_url']);
  });
});

describe('checkIfMatch', () => {
  const row = { version: 4 };
  it.each([undefined, '', '"4"', 'W/"4"', '4', '*'])('accepts %p for version 4', (header) => {
    expect(() => checkIfMatch(header, row)).not.toThrow();
  });

  it.each(['"3"', '"5"'])('409 for a stale %s', (header) => {
    expect(() => checkIfMatch(header, row)).toThrow(expect.objectContaining({ code: 'conflict' }) as Error);
  });

  it('409 for any version, or *, when nothing is stored', () => {
    for (const header of ['"1"', '*']) {
      expect(() => checkIfMatch(header, null)).toThrow(
        expect.objectContaining({ code: 'conflict' }) as Error,
      );
    }
  });

  it.each(['v4', '"four"', '"1234567890"', '4, 5'])('400 for a malformed %s', (header) => {
    expect(() => checkIfMatch(header, row)).toThrow(
      expect.objectContaining({ code: 'validation_failed' }) as Error,
    );
  });

  describe('certificate credentials', () => {
    const certificate = {
      id: 'd0d0d0d0-0000-4000-8000-000000000001',
      privateKeyPem: 'PEM',
      facts: {
        certificatePem: 'CERT',
        thumbprint: 'ABCDEF0123',
        thumbprintSha256: 'sha256-b64',
        subject: 'CN=x',
        notBefore: new Date('2026-01-01T00:00:00Z'),
        notAfter: new Date('2028-01-01T00:00:00Z'),
      },
      source: 'pending' as const,
    };
    const withCertificate = (
      dto: Partial<IntegrationCredentialsDto>,
      existing: IntegrationSettings | null = null,
    ) =>
      resolveInput(
        { ...required, ...dto },
        existing,
        () => ({ type: 'client_secret', secret: 's' }),
        certificate,
        [],
      );

    it('signs with the named certificate; its expiry is the certificate’s own', () => {
      const input = withCertificate({ certificate_id: certificate.id });
      expect(input.credentials.credential).toEqual({
        type: 'certificate',
        privateKeyPem: 'PEM',
        thumbprintSha256: 'sha256-b64',
        thumbprint: 'ABCDEF0123',
      });
      expect(input.credentialGiven).toEqual({ type: 'certificate', certificate });
      expect(input.secretExpiresAt).toEqual(certificate.facts.notAfter);
    });

    it('refuses a secret and a certificate together, a typed expiry for a certificate, and neither for a new connection', () => {
      expect(
        problemsOf(() => withCertificate({ certificate_id: certificate.id, client_secret: 'x' })),
      ).toEqual(['certificate_id']);
      expect(
        problemsOf(() =>
          withCertificate({ certificate_id: certificate.id, secret_expires_at: '2027-01-01T00:00:00Z' }),
        ),
      ).toEqual(['secret_expires_at']);
      expect(problemsOf(() => resolve({}, null))).toEqual(['client_secret']);
    });
  });
});
