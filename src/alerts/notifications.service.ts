// An org's notification settings (GET/PUT /api/v1/notifications), the test notice, and the list of
// its alerts. A new webhook URL gets a new Standard Webhooks secret, answered once and stored
// encrypted; every change is an audit event (never the secret).
import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Principal } from '../access/principal.js';
import { AuditContext, AuditService } from '../audit/audit.service.js';
import { AppError } from '../common/errors.js';
import { AppConfig } from '../config/app-config.js';
import { SecretCipher } from '../settings/secret-cipher.js';
import { WEBHOOK_SECRET_COLUMN } from './alert-sender.js';
import { AlertView, Condition, renderAlert } from './alert-messages.js';
import { AlertsRepository } from './alerts.repository.js';
import { AlertsService } from './alerts.service.js';
import { NotificationSettings } from './notification-settings.entity.js';
import type {
  AlertListDto,
  NotificationSettingsDto,
  NotificationSettingsInputDto,
  NotificationTestDto,
} from './notifications.dto.js';
import { webhookAddressProblem, webhookUrlProblem } from './webhook-target.js';

/** How long the test waits for its notices to go out before answering what it knows. */
const TEST_WAIT_MS = 10_000;

@Injectable()
export class NotificationsService {
  constructor(
    private readonly config: AppConfig,
    private readonly repository: AlertsRepository,
    private readonly alerts: AlertsService,
    private readonly cipher: SecretCipher,
    private readonly audit: AuditService,
  ) {}

  async get(principal: Principal): Promise<NotificationSettingsDto> {
    return this.document(await this.repository.findSettings(principal.org_id));
  }

  async put(
    principal: Principal,
    input: NotificationSettingsInputDto,
    context: AuditContext,
  ): Promise<NotificationSettingsDto> {
    const orgId = principal.org_id;
    const emails = input.emails?.map((e) => e.trim().toLowerCase());
    if (emails?.length && !this.config.smtpUrl) {
      throw AppError.validation([
        {
          field: 'emails',
          message:
            'e-mail alerts need SMTP_URL and SMTP_FROM set on the service; use a webhook, or ask the operator',
        },
      ]);
    }
    const url = input.webhook_url?.trim() || (input.webhook_url === undefined ? undefined : null);
    if (url) {
      const problem =
        webhookUrlProblem(url, this.config.notificationAllowedOrigins) ??
        (await webhookAddressProblem(url, this.config.notificationAllowedOrigins));
      if (problem) throw AppError.validation([{ field: 'webhook_url', message: problem }]);
    }
    let secret: string | undefined;
    const saved = await this.repository.transaction(async (manager) => {
      const current = await this.repository.findSettings(orgId, manager);
      const row =
        current ?? Object.assign(new NotificationSettings(), { orgId, emails: [], events: null, version: 0 });
      const changed: string[] = [];
      if (emails !== undefined && emails.join() !== row.emails.join()) {
        row.emails = [...new Set(emails)];
        changed.push('emails');
      }
      if (url !== undefined && url !== row.webhookUrl) {
        row.webhookUrl = url;
        if (url) {
          secret = `whsec_${randomBytes(32).toString('base64')}`;
          const sealed = this.cipher.encrypt(secret, orgId, WEBHOOK_SECRET_COLUMN);
          row.webhookSecretEncrypted = sealed.ciphertext;
          row.webhookSecretKeyId = sealed.keyId;
        } else {
          row.webhookSecretEncrypted = null;
          row.webhookSecretKeyId = null;
        }
        changed.push('webhook_url');
      }
      if (input.events !== undefined && JSON.stringify(input.events) !== JSON.stringify(row.events)) {
        row.events = input.events ? [...new Set(input.events)] : null;
        changed.push('events');
      }
      if (changed.length === 0 && current) return current;
      row.version += 1;
      row.updatedAt = new Date();
      const stored = await this.repository.saveSettings(manager, row);
      await this.audit.record(manager, orgId, 'notifications.changed', context, {
        changed_fields: changed,
        emails: stored.emails.length,
        webhook_host: stored.webhookUrl ? new URL(stored.webhookUrl).host : null,
        webhook_secret_created: secret !== undefined,
        events: stored.events,
      });
      return stored;
    });
    return { ...this.document(saved), ...(secret ? { webhook_secret: secret } : {}) };
  }

  /** A test notice on every channel; answers each one's outcome (waiting up to 10 s for it). */
  async test(principal: Principal): Promise<NotificationTestDto> {
    const queued = await this.alerts.test(principal.org_id);
    if (queued.length === 0) {
      throw new AppError('conflict', 'No channel is set: add e-mail recipients or a webhook first.');
    }
    const deadline = Date.now() + TEST_WAIT_MS;
    let found = await this.repository.findDeliveries(queued.map((d) => d.id));
    while (
      found.some((d) => d.state === 'pending' && (d.attempts === 0 || !d.lastError)) &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      found = await this.repository.findDeliveries(queued.map((d) => d.id));
    }
    return {
      channels: found
        .map((d) => ({ channel: d.channel, state: d.state, error: d.lastError }))
        .sort((x, y) => x.channel.localeCompare(y.channel)),
    };
  }

  async list(principal: Principal, limit = 50): Promise<AlertListDto> {
    const consoleUrl = `${this.config.publicUrl}/console/`;
    return {
      items: (await this.repository.list(principal.org_id, limit)).map(({ alert, deliveries }) => {
        const view: AlertView = { ...alert, condition: alert.condition as Condition };
        // What opened it and what to do, whether it is still open or not.
        const words = renderAlert(view, 'opened', consoleUrl).webhook.data;
        return {
          id: alert.id,
          condition: alert.condition,
          stage: alert.stage,
          state: alert.state,
          title: String(words.title),
          todo: (words.todo as string | null) ?? null,
          detail: alert.detail,
          opened_at: alert.openedAt.toISOString(),
          resolved_at: alert.resolvedAt?.toISOString() ?? null,
          deliveries: deliveries.map((d) => ({
            channel: d.channel,
            notice: d.notice,
            state: d.state,
            attempts: d.attempts,
            last_error: d.lastError,
            sent_at: d.sentAt?.toISOString() ?? null,
          })),
        };
      }),
    };
  }

  private document(row: NotificationSettings | null): NotificationSettingsDto {
    return {
      emails: row?.emails ?? [],
      webhook_url: row?.webhookUrl ?? null,
      events: row?.events ?? null,
      email_available: !!this.config.smtpUrl,
      version: row?.version ?? 0,
      updated_at: row?.updatedAt.toISOString() ?? null,
    };
  }
}
