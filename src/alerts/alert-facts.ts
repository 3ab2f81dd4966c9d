// The facts alerts follow that other rooms learn: every recorded verification (through the
// connection's hooks, inside its transaction) moves connection.status_changed and readiness.failed;
// handoffs and the messaging webhook report theirs through the methods below.
import { Injectable, OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ConnectionHooks, VerificationFacts } from '../settings/connection-hooks.js';
import { AlertsService } from './alerts.service.js';

/** Refusals of Microsoft's webhook token that mean its set-up is wrong (the signature was the tenant's). */
const SET_UP_REASONS = ['wrong_audience', 'other_caller', 'wrong_issuer', 'too_long_lived'];

@Injectable()
export class AlertFacts implements OnModuleInit {
  constructor(
    private readonly hooks: ConnectionHooks,
    private readonly alerts: AlertsService,
  ) {}

  onModuleInit(): void {
    this.hooks.onRecorded((manager, facts) => this.verificationRecorded(manager, facts));
  }

  private async verificationRecorded(manager: EntityManager, facts: VerificationFacts): Promise<void> {
    const { orgId, to, verification } = facts;
    if (to === 'active') await this.alerts.resolve(orgId, 'connection.status_changed', { manager });
    else {
      // Opens once; a move between invalid and unreachable is announced as such.
      await this.alerts.raise(
        orgId,
        'connection.status_changed',
        {
          from: facts.from,
          to,
          stage: verification?.stage ?? null,
          code: verification?.upstream_code ?? null,
          message: verification?.message ?? null,
          hint: verification?.hint ?? null,
        },
        { stage: to, manager },
      );
    }
    if (!facts.readiness) return;
    const failing = facts.readiness.checks.filter((c) => !c.ok);
    if (failing.length === 0) {
      await this.alerts.resolve(orgId, 'readiness.failed', { manager });
      return;
    }
    await this.alerts.raise(
      orgId,
      'readiness.failed',
      { failing: failing.map((c) => ({ check: c.check, detail: c.detail, hint: c.hint })) },
      // Another set of failing checks is announced again.
      {
        stage: failing
          .map((c) => c.check)
          .sort()
          .join(','),
        manager,
      },
    );
  }

  /** A handoff failed for good. */
  async handoffFailed(detail: {
    orgId: string;
    sessionId: string;
    stage: string | null;
    code: string | null;
    message: string | null;
    hint: string | null;
  }): Promise<void> {
    const { orgId, sessionId, ...rest } = detail;
    await this.alerts.raise(orgId, 'handoffs.failing', { session_id: sessionId, ...rest });
  }

  /** Handoffs of these orgs have waited held longer than they should (the maintenance pass counts them). */
  async handoffsHeld(orgs: { orgId: string; held: number; oldestSince: Date }[]): Promise<void> {
    for (const { orgId, held, oldestSince } of orgs) {
      await this.alerts.raise(orgId, 'handoffs.failing', { held, oldest_since: oldestSince.toISOString() });
    }
  }

  /** A handoff was delivered: the failing condition of its org resolves (handoffs still held reopen it on the next pass). */
  async handoffDelivered(orgId: string): Promise<void> {
    await this.alerts.resolveIfOpen(orgId, 'handoffs.failing');
  }

  /** Microsoft's webhook call was refused for a reason that points at its set-up. */
  async webhookRejected(orgId: string, reason: string): Promise<void> {
    if (!SET_UP_REASONS.includes(reason) || this.alerts.isOpen(orgId, 'messaging.webhook_rejected')) return;
    await this.alerts.raise(orgId, 'messaging.webhook_rejected', { reason });
  }

  async webhookAccepted(orgId: string): Promise<void> {
    await this.alerts.resolveIfOpen(orgId, 'messaging.webhook_rejected');
  }
}
