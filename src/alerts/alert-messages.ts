// What an alert says, on every channel alike: what happened, what it breaks, exactly what to do (the
// hints the console shows), and where to look. Pure functions of the alert; nothing secret goes in
// (details carry codes, hints and ids, never a secret or a token).

export const CONDITIONS = [
  'connection.status_changed',
  'secret.expiring',
  'readiness.failed',
  'handoffs.failing',
  'messaging.webhook_rejected',
] as const;

export type Condition = (typeof CONDITIONS)[number];

export type Notice = 'opened' | 'escalated' | 'reminder' | 'resolved' | 'test';

export interface AlertView {
  id: string | null;
  orgId: string;
  condition: Condition | 'test';
  stage: string | null;
  state: 'open' | 'resolved';
  detail: Record<string, unknown>;
  openedAt: Date;
  resolvedAt: Date | null;
}

export interface RenderedAlert {
  subject: string;
  text: string;
  html: string;
  /** The Standard Webhooks body: `{type, timestamp, data}`. */
  webhook: { type: string; timestamp: string; data: Record<string, unknown> };
}

interface Words {
  title: string;
  what: string;
  breaks: string | null;
  todo: string | null;
}

const str = (value: unknown) =>
  typeof value === 'string' ? value : value === null || value === undefined ? '' : JSON.stringify(value);

function words(alert: AlertView, notice: Notice): Words {
  const d = alert.detail;
  if (notice === 'test') {
    return {
      title: 'Test alert',
      what: 'This is a test of the alert channels of the Dynamics 365 connection. Nothing is wrong.',
      breaks: null,
      todo: null,
    };
  }
  const resolved = notice === 'resolved';
  switch (alert.condition) {
    case 'connection.status_changed':
      return resolved
        ? {
            title: 'Dynamics 365 connection is active again',
            what: 'The connection verified with Microsoft again. Held handoffs are being delivered.',
            breaks: null,
            todo: null,
          }
        : {
            title: `Dynamics 365 connection is ${str(d.to)}`,
            what: `Verifying the stored credentials ${d.to === 'invalid' ? 'was refused by Microsoft' : 'could not reach Microsoft'} at ${str(d.stage)}${d.code ? ` (${str(d.code)})` : ''}${d.message ? `: ${str(d.message)}` : '.'}`,
            breaks:
              'Handoffs are held instead of reaching Dynamics 365; held ones expire after a day (HANDOFF_MAX_AGE).',
            todo: str(d.hint) || 'Open the console, Configure, and Test & Save the connection again.',
          };
    case 'secret.expiring': {
      // The credential is a client secret or, since #29, a certificate (its expiry read from it).
      const certificate = d.credential_type === 'certificate';
      const noun = certificate ? 'certificate' : 'client secret';
      return resolved
        ? {
            title: certificate ? 'Certificate replaced' : 'Client secret rotated',
            what: `A new ${noun} was saved; nothing is expiring now.`,
            breaks: null,
            todo: null,
          }
        : {
            title:
              alert.stage === 'expired'
                ? `Dynamics 365 ${noun} has expired`
                : `Dynamics 365 ${noun} expires ${alert.stage === '3_days' ? 'within 3 days' : 'within 14 days'}`,
            what: certificate
              ? `The certificate (thumbprint ${str(d.client_secret_hint)}…) of app ${str(d.client_id)} ${alert.stage === 'expired' ? 'expired' : 'expires'} on ${str(d.expires_at)}.`
              : `The client secret (${str(d.client_secret_hint)}…) of app ${str(d.client_id)} ${alert.stage === 'expired' ? 'expired' : 'expires'} on ${str(d.expires_at)}.`,
            breaks:
              'Once it expires, Microsoft refuses the app: the connection turns invalid and every handoff is held.',
            todo: certificate
              ? 'Generate a new certificate in the console (Configure → Certificate → Generate), upload it under Azure portal → App registrations → your app → Certificates & secrets → Certificates, then Test & Save; delete the old certificate from Azure afterwards.'
              : 'Create a new client secret (Azure portal → App registrations → your app → Certificates & secrets → New client secret) a few days before, then paste its Value in the console (Configure → Client Secret → Test & Save), with its new expiry date.',
          };
    }
    case 'readiness.failed': {
      const failing = Array.isArray(d.failing) ? (d.failing as { detail?: string; hint?: string }[]) : [];
      return resolved
        ? {
            title: 'Dynamics 365 is ready for handoffs again',
            what: 'Every readiness check passes.',
            breaks: null,
            todo: null,
          }
        : {
            title: 'Dynamics 365 is not ready for handoffs',
            what: `Readiness found ${failing.length} problem${failing.length === 1 ? '' : 's'}: ${failing.map((f) => f.detail).join('; ')}.`,
            breaks:
              'Handoffs will fail (or, with user-depth contacts, create duplicate contacts) at the steps named.',
            todo:
              failing
                .map((f) => f.hint)
                .filter(Boolean)
                .join('\n') || null,
          };
    }
    case 'handoffs.failing':
      return resolved
        ? {
            title: 'Handoffs are being delivered again',
            what: 'A handoff was delivered since, and none waits held.',
            breaks: null,
            todo: null,
          }
        : {
            title: 'Handoffs into Dynamics 365 are failing',
            what:
              typeof d.held === 'number'
                ? `${d.held} handoff${d.held === 1 ? ' has' : 's have'} waited held for more than 15 minutes (the oldest since ${str(d.oldest_since)}).`
                : `Handoff ${str(d.session_id)} failed at ${str(d.stage)}${d.code ? ` (${str(d.code)})` : ''}${d.message ? `: ${str(d.message)}` : '.'}`,
            breaks: 'The customers of these conversations are not reaching a person in Dynamics 365.',
            todo:
              str(d.hint) ||
              'Open the console’s Handoffs view for each error and its fix; retry failed handoffs once fixed.',
          };
    case 'messaging.webhook_rejected':
      return resolved
        ? {
            title: "Microsoft's messaging webhook calls are accepted again",
            what: 'A webhook call from Microsoft was accepted.',
            breaks: null,
            todo: null,
          }
        : {
            title: "Microsoft's messaging webhook calls are refused",
            what: `A call from Microsoft to the messaging webhook was refused (401, reason ${str(d.reason)}).`,
            breaks: "Agents' replies reach customers only through the catch-up read, minutes late.",
            todo:
              d.reason === 'wrong_audience'
                ? 'Set messaging_webhook_audience to the Application ID URI exposed on the app (Expose an API), or expose api://<client id>.'
                : d.reason === 'other_caller'
                  ? 'The token was obtained by another app: set messaging_webhook_caller_id to it, or link the managed identity to this app.'
                  : 'Check the managed identity record linked to the messaging channel and the federated credential on the app (docs: Handoffs → webhook authentication).',
          };
    default:
      return { title: 'Alert', what: JSON.stringify(d), breaks: null, todo: null };
  }
}

const escape = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** The alert as an e-mail (subject, text, HTML) and as a webhook body. */
export function renderAlert(alert: AlertView, notice: Notice, consoleUrl: string): RenderedAlert {
  const w = words(alert, notice);
  const prefix = notice === 'reminder' ? 'Still open: ' : notice === 'resolved' ? 'Resolved: ' : '';
  const subject = `[Dynamics 365 · ${alert.orgId}] ${prefix}${w.title}`;
  const lines = [
    `${prefix}${w.title}`,
    '',
    w.what,
    ...(w.breaks ? ['', `What it breaks: ${w.breaks}`] : []),
    ...(w.todo ? ['', 'What to do:', w.todo] : []),
    '',
    `Organisation: ${alert.orgId}`,
    `Open since: ${alert.openedAt.toISOString()}${alert.resolvedAt ? `; resolved ${alert.resolvedAt.toISOString()}` : ''}`,
    `Console: ${consoleUrl}`,
  ];
  const html = [
    `<h2>${escape(prefix + w.title)}</h2>`,
    `<p>${escape(w.what)}</p>`,
    w.breaks ? `<p><strong>What it breaks:</strong> ${escape(w.breaks)}</p>` : '',
    w.todo ? `<p><strong>What to do:</strong><br>${escape(w.todo).replace(/\n/g, '<br>')}</p>` : '',
    `<p>Organisation ${escape(alert.orgId)} · open since ${escape(alert.openedAt.toISOString())}</p>`,
    `<p><a href="${escape(consoleUrl)}">Open the console</a></p>`,
  ].join('\n');
  return {
    subject,
    text: lines.join('\n'),
    html,
    webhook: {
      type: `alert.${notice}`,
      timestamp: new Date().toISOString(),
      data: {
        alert_id: alert.id,
        org_id: alert.orgId,
        condition: alert.condition,
        stage: alert.stage,
        state: alert.state,
        title: w.title,
        what: w.what,
        breaks: w.breaks,
        todo: w.todo,
        detail: alert.detail,
        opened_at: alert.openedAt.toISOString(),
        resolved_at: alert.resolvedAt?.toISOString() ?? null,
        console_url: consoleUrl,
      },
    },
  };
}
