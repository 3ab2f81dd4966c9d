// Sends queued alert notices: e-mail through SMTP (nodemailer), webhooks signed per Standard Webhooks
// (the org's secret; the operator's ALERTS_WEBHOOK_SECRET). Each notice is an outbox row claimed with
// a lease: a sender that dies mid-send leaves it due again when the lease lapses, and the resend
// carries the same `webhook-id` / Message-ID, so receivers can tell it is the same notice. Failures
// are retried with exponential backoff, at most MAX_ATTEMPTS times.
// Alerts go to the org's (or the operator's) own endpoint, not to Microsoft; node:http(s) rather
// than fetch so the socket's own lookup checks the address it connects to.
// eslint-disable-next-line no-restricted-imports
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { createTransport, type Transporter } from 'nodemailer';
import { Webhook } from 'standardwebhooks';
import { AppConfig } from '../config/app-config.js';
import { SecretCipher } from '../settings/secret-cipher.js';
import type { AlertDelivery } from './alert-delivery.entity.js';
import type { RenderedAlert } from './alert-messages.js';
import { AlertsMetrics } from './alerts.metrics.js';
import { AlertsRepository } from './alerts.repository.js';
import { AlertsService } from './alerts.service.js';
import { publicOnlyLookup, webhookUrlProblem } from './webhook-target.js';

const POLL_MS = 1000;
const BATCH = 10;
const LEASE_MS = 60_000;
const SEND_TIMEOUT_MS = 10_000;
const MAX_ATTEMPTS = 8;
/** The column the org's webhook secret is encrypted for (bound into the ciphertext). */
export const WEBHOOK_SECRET_COLUMN = 'notification_settings.webhook_secret_encrypted';

class NotSent extends Error {
  constructor(
    message: string,
    /** No retry can help (the channel was removed, the address is private). */
    readonly permanent = false,
  ) {
    super(message);
  }
}

@Injectable()
export class AlertSender implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AlertSender.name);
  private readonly mail?: Transporter;
  private readonly operator?: Webhook;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    private readonly config: AppConfig,
    private readonly repository: AlertsRepository,
    private readonly alerts: AlertsService,
    private readonly cipher: SecretCipher,
    private readonly metrics: AlertsMetrics,
  ) {
    if (config.smtpUrl) this.mail = createTransport(config.smtpUrl);
    if (config.alertsWebhookSecret) this.operator = new Webhook(config.alertsWebhookSecret);
    alerts.onQueued(() => void this.wake());
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.wake(), POLL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
    this.mail?.close();
  }

  /** Sends what is due now (one pass at a time per instance; a wake during it runs another). */
  wake(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          for (;;) {
            if (this.stopped) return;
            const due = await this.repository.claimDue(BATCH, LEASE_MS);
            await Promise.all(due.map((delivery) => this.send(delivery)));
            if (due.length < BATCH) break;
          }
        } while (this.again && !this.stopped);
      } catch (error) {
        this.logger.warn(`Alert notices could not be sent now: ${(error as Error).message}`);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async send(delivery: AlertDelivery): Promise<void> {
    const payload = delivery.payload as unknown as RenderedAlert & { to?: string[] };
    try {
      if (delivery.channel === 'email') await this.email(delivery, payload);
      else if (delivery.channel === 'webhook') await this.orgWebhook(delivery, payload);
      else await this.operatorWebhook(delivery, payload);
      await this.repository.sent(delivery.id, delivery.attempts);
      this.metrics.delivery(delivery.channel, 'sent');
    } catch (error) {
      const message = (error as Error).message;
      const last = error instanceof NotSent && error.permanent ? true : delivery.attempts >= MAX_ATTEMPTS;
      const next = last
        ? null
        : new Date(
            Date.now() +
              Math.min(3600_000, 5000 * 2 ** (delivery.attempts - 1)) * (0.8 + Math.random() * 0.4),
          );
      await this.repository.notSent(delivery.id, delivery.attempts, message, next);
      this.metrics.delivery(delivery.channel, last ? 'failed' : 'retried');
      this.logger.warn(
        { org_id: delivery.orgId, channel: delivery.channel, attempt: delivery.attempts, reason: message },
        last ? 'Alert notice given up' : 'Alert notice not sent; retrying later',
      );
    }
  }

  private async email(delivery: AlertDelivery, payload: RenderedAlert & { to?: string[] }): Promise<void> {
    if (!this.mail || !this.config.smtpFrom) throw new NotSent('SMTP_URL is not configured', true);
    if (!payload.to?.length) throw new NotSent('no recipients', true);
    await this.mail.sendMail({
      from: this.config.smtpFrom,
      to: payload.to,
      subject: payload.subject,
      text: payload.text,
      html: payload.html,
      // The same on a resend: mail clients and servers see one message.
      messageId: `<${delivery.id}@dynamics365-connector>`,
      headers: { 'X-Dynamics365-Alert': delivery.alertId ?? 'test' },
    });
  }

  private async orgWebhook(delivery: AlertDelivery, payload: RenderedAlert): Promise<void> {
    const settings = await this.repository.findSettings(delivery.orgId);
    if (!settings?.webhookUrl || !settings.webhookSecretEncrypted || !settings.webhookSecretKeyId) {
      throw new NotSent('the webhook was removed', true);
    }
    const problem = webhookUrlProblem(settings.webhookUrl, this.config.notificationAllowedOrigins);
    if (problem) throw new NotSent(problem, true);
    const secret = this.cipher.decrypt(
      { ciphertext: settings.webhookSecretEncrypted, keyId: settings.webhookSecretKeyId },
      delivery.orgId,
      WEBHOOK_SECRET_COLUMN,
    );
    const allowed = this.config.notificationAllowedOrigins.includes(new URL(settings.webhookUrl).origin);
    await post(settings.webhookUrl, delivery.id, new Webhook(secret), payload, allowed);
  }

  private async operatorWebhook(delivery: AlertDelivery, payload: RenderedAlert): Promise<void> {
    if (!this.operator || !this.config.alertsWebhookUrl)
      throw new NotSent('ALERTS_WEBHOOK_URL is not configured', true);
    // The operator's own endpoint, from configuration: trusted as given.
    await post(this.config.alertsWebhookUrl, delivery.id, this.operator, payload, true);
  }
}

/**
 * POSTs a signed webhook with node:http(s) rather than fetch: the connection's address is checked
 * (public only, unless the origin is allowed) by the lookup the socket itself uses.
 */
function post(
  url: string,
  id: string,
  signer: Webhook,
  payload: RenderedAlert,
  allowed: boolean,
): Promise<void> {
  const body = JSON.stringify(payload.webhook);
  const now = new Date();
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<void>((resolve, reject) => {
    const request = send(
      target,
      {
        method: 'POST',
        lookup: publicOnlyLookup(allowed),
        timeout: SEND_TIMEOUT_MS,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'dynamics365-connector',
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
          'webhook-signature': signer.sign(id, now, body),
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new NotSent(`the webhook answered HTTP ${status}`));
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${SEND_TIMEOUT_MS / 1000} s`)));
    request.on('error', (error) => reject(new NotSent(error.message)));
    request.end(body);
  });
}
