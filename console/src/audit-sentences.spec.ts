import { actorName, auditSentence } from './audit-sentences.js';

const alice = { type: 'user' as const, id: 'alice', name: 'Alice Admin' };
const system = { type: 'system' as const, id: null, name: null };

describe('auditSentence', () => {
  it.each([
    [
      'a connection made',
      {
        action: 'integration.saved',
        actor: alice,
        details: { created: true, environment_url: 'https://contoso.crm.dynamics.com' },
      },
      'Alice Admin connected Dynamics 365 (environment https://contoso.crm.dynamics.com).',
    ],
    [
      'a secret rotated',
      {
        action: 'integration.saved',
        actor: alice,
        details: {
          created: false,
          secret_rotated: true,
          client_secret_hint: 'Xy8',
          previous_client_secret_hint: 'Ab1',
        },
      },
      'Alice Admin rotated the client secret (now Xy8…, was Ab1…).',
    ],
    [
      'a certificate rotated',
      {
        action: 'integration.saved',
        actor: alice,
        details: {
          secret_rotated: true,
          credential_type: 'certificate',
          certificate_thumbprint: 'BBBB',
          previous_certificate_thumbprint: 'AAAA',
        },
      },
      'Alice Admin switched to a new certificate (thumbprint BBBB, was AAAA).',
    ],
    [
      'a certificate generated',
      {
        action: 'integration.certificate_created',
        actor: alice,
        details: { source: 'generated', thumbprint: 'BBBB', not_after: '2028-12-06T05:00:00.000Z' },
      },
      'Alice Admin generated a certificate (thumbprint BBBB, valid until 2028-12-06).',
    ],
    [
      'defaults changed',
      {
        action: 'integration.saved',
        actor: alice,
        details: { changed_fields: ['default_priority', 'default_queue_id'] },
      },
      'Alice Admin changed the connection: case priority and queue.',
    ],
    [
      'a save refused',
      {
        action: 'integration.save_rejected',
        actor: alice,
        details: {
          stage: 'token_exchange',
          code: 'AADSTS7000215',
          environment_url: 'https://contoso.crm.dynamics.com',
        },
      },
      'Alice Admin tried to connect https://contoso.crm.dynamics.com; Microsoft refused at the token exchange with Microsoft Entra ID (AADSTS7000215). Nothing was saved.',
    ],
    [
      'the nightly check finding it broken',
      {
        action: 'integration.status_changed',
        actor: system,
        details: { from: 'active', to: 'invalid', stage: 'token_exchange', code: 'AADSTS7000222' },
      },
      'A scheduled check found the connection Invalid (it was Active) at the token exchange with Microsoft Entra ID (AADSTS7000222).',
    ],
    [
      'an admin finding it working again',
      { action: 'integration.status_changed', actor: alice, details: { from: 'invalid', to: 'active' } },
      'Alice Admin found the connection Active (it was Invalid).',
    ],
    [
      'not ready',
      {
        action: 'integration.readiness_changed',
        actor: system,
        details: { ready: false, failing: ['privilege:prvCreateIncident'] },
      },
      'The connection is not ready for handoffs: privilege:prvCreateIncident.',
    ],
    [
      'disconnected',
      {
        action: 'integration.disconnected',
        actor: alice,
        details: { environment_url: 'https://contoso.crm.dynamics.com' },
      },
      'Alice Admin disconnected Dynamics 365 (environment https://contoso.crm.dynamics.com).',
    ],
    [
      'notifications',
      {
        action: 'notifications.changed',
        actor: alice,
        details: { changed_fields: ['emails', 'webhook_url'] },
      },
      'Alice Admin changed the notifications: e-mail recipients and webhook.',
    ],
    [
      'an erasure',
      { action: 'customer_data.erased', actor: alice, details: { identifier: 'email', handoffs_erased: 2 } },
      "Alice Admin erased a customer's data (by email): 2 handoffs.",
    ],
  ])('%s', (_name, event, sentence) => {
    expect(auditSentence(event)).toBe(sentence);
  });

  it('names the actor as the log shows it: the name, else the id, and System for the service', () => {
    expect(actorName({ actor: alice })).toBe('Alice Admin');
    expect(actorName({ actor: { type: 'user', id: 'bob', name: null } })).toBe('bob');
    expect(actorName({ actor: system })).toBe('System');
  });
});
