import { parseArgs } from 'node:util';
import { DEMO, seedDemo } from './demo.js';
import { startSandbox } from './server.js';
import { PLATFORM_AUDIENCE } from './platform-idp.js';

/**
 * `npm run sandbox [-- --port 4010 --environment-port 4011 --service-url http://127.0.0.1:3000]`:
 * the simulated Microsoft cloud with a demo tenant. The service's address (where the demo channel's
 * webhook points and the printed commands go) is `--service-url`, else `PORT`'s, else :3000.
 * `npm run demo` starts this and the service together on free ports instead.
 */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4010' },
    'environment-port': { type: 'string', default: '4011' },
    'messaging-port': { type: 'string', default: '4012' },
    'mail-port': { type: 'string', default: '4025' },
    'service-url': { type: 'string', default: `http://127.0.0.1:${process.env.PORT?.trim() || '3000'}` },
    host: { type: 'string', default: '127.0.0.1' },
  },
});

const sandbox = await startSandbox({
  port: Number(values.port),
  host: values.host,
  mailPort: Number(values['mail-port']),
});
const cases = await seedDemo(sandbox, Number(values['environment-port']), {
  messagingPort: Number(values['messaging-port']),
  serviceUrl: values['service-url'],
});
const origin = cases[0].environment_url;
const service = values['service-url'];
const port = new URL(service).port || '80';
const environment = sandbox.model.environment(DEMO.environment);
const messagingOrigin = environment.messaging!.origin;

const lines = [
  '',
  'Simulated Microsoft cloud (Entra ID token endpoint + Dataverse Web API) is running.',
  `  login (token endpoint):  ${sandbox.loginUrl}/{tenant}/oauth2/v2.0/token`,
  `  Dataverse environment:   ${origin}/api/data/v9.2/`,
  `  Messaging API:           ${messagingOrigin}/api/v1.0/consumer/ (channel ${DEMO.messagingChannelId})`,
  `  control API:             ${sandbox.loginUrl}/_sandbox/state`,
  `  mail catcher (SMTP):     ${sandbox.mail.url}  (caught mail: ${sandbox.loginUrl}/_sandbox/mail)`,
  '',
  'Start the service against it (in another terminal):',
  `  PORT=${port} MICROSOFT_LOGIN_URL=${sandbox.loginUrl} DYNAMICS_ALLOWED_ORIGINS=${origin},${messagingOrigin} SMTP_URL=${sandbox.mail.url} SMTP_FROM=alerts@dynamics365-connector.example NOTIFICATION_ALLOWED_ORIGINS=${sandbox.loginUrl} npm start`,
  '',
  "Or with console sign-in at the platform's OpenID provider (users Demo Admin and Demo Member; no npm run token):",
  `  PORT=${port} MICROSOFT_LOGIN_URL=${sandbox.loginUrl} DYNAMICS_ALLOWED_ORIGINS=${origin},${messagingOrigin} AUTH_JWKS_URL=${sandbox.platformIdp.issuer}/keys AUTH_ISSUER=${sandbox.platformIdp.issuer} AUTH_AUDIENCE=${PLATFORM_AUDIENCE} CONSOLE_OIDC_CLIENT_ID=${DEMO.consoleClientId} npm start`,
  '',
  'App registrations to paste into Test & Save:',
];
for (const c of cases) {
  lines.push('', `  ${c.label}  →  expect: ${c.expect}`);
  lines.push(
    `    ${JSON.stringify({ client_id: c.client_id, client_secret: c.client_secret, tenant_id: c.tenant_id, environment_url: c.environment_url, ...c.settings })}`,
  );
}
const working = cases[0];
const credentials = JSON.stringify({
  client_id: working.client_id,
  client_secret: working.client_secret,
  tenant_id: working.tenant_id,
  environment_url: working.environment_url,
});
const handoff = JSON.stringify({
  session_id: 'demo-session-1',
  channel: 'email',
  customer: { name: 'Ada Lovelace', email: 'ada@example.com' },
  classification: 'Delivery',
  summary: 'Parcel missing for 5 days.',
  transcript: [
    { role: 'customer', text: 'My parcel has not arrived.', at: '2026-11-30T09:00:00Z' },
    { role: 'ai', text: 'I am handing you to a colleague.', at: '2026-11-30T09:00:05Z' },
  ],
});
lines.push(
  '',
  `Hand a conversation off to Dynamics 365 (service on ${service}; in a third terminal):`,
  `  TOKEN=$(npm run -s token -- --org demo --role admin)`,
  `  curl -s -X PUT ${service}/api/v1/integrations/dynamics365 -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '${credentials}'`,
  `  curl -s -X POST ${service}/api/v1/handoffs -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '${handoff}'`,
  `  curl -s ${service}/api/v1/handoffs/demo-session-1 -H "Authorization: Bearer $TOKEN"`,
  `  curl -s ${sandbox.loginUrl}/_sandbox/state    # environments[0].records: the case, the contact, the note`,
);
const messaging = JSON.stringify({
  client_id: working.client_id,
  tenant_id: working.tenant_id,
  environment_url: working.environment_url,
  messaging_endpoint: messagingOrigin,
  messaging_channel_id: DEMO.messagingChannelId,
  messaging_organization_id: environment.organizationId,
  messaging_scope: `${environment.messagingResource}/.default`,
});
const chat = JSON.stringify({
  session_id: 'demo-chat-1',
  channel: 'web',
  customer: { name: 'Grace Hopper', email: 'grace@example.com' },
  summary: 'Wants to change the delivery address.',
  transcript: [{ role: 'customer', text: 'Can I change my delivery address?', at: '2026-11-30T10:00:00Z' }],
});
const control = `${sandbox.loginUrl}/_sandbox/environments/${DEMO.environment}/messaging`;
lines.push(
  '',
  'Chat handoff as an Omnichannel conversation (same terminal, after the above):',
  `  curl -s -X PUT ${service}/api/v1/integrations/dynamics365 -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '${messaging}'`,
  `  curl -s -X POST ${service}/api/v1/handoffs -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '${chat}'`,
  `  curl -sN ${service}/api/v1/handoffs/demo-chat-1/events -H "Authorization: Bearer $TOKEN" &    # the stream`,
  `  CONVERSATION=$(curl -s ${service}/api/v1/handoffs/demo-chat-1 -H "Authorization: Bearer $TOKEN" | grep -o '"conversation_id":"[^"]*"' | cut -d'"' -f4)`,
  `  curl -s -X POST ${control}/conversations/$CONVERSATION/activities -H 'Content-Type: application/json' -d '{"type":"message","text":"Hi Grace, Dana here."}'`,
  `  curl -s -X POST ${service}/api/v1/handoffs/demo-chat-1/messages -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"text":"Thanks!"}'`,
  `  curl -s -X POST ${control}/conversations/$CONVERSATION/activities -H 'Content-Type: application/json' -d '{"type":"message","name":"ConversationClosed"}'`,
);
const certificateApp = DEMO.certificateApp.clientId;
lines.push(
  '',
  'Certificate credentials instead of a secret (the demo "Certificate app" has none; same terminal):',
  `  curl -s -X POST ${service}/api/v1/integrations/dynamics365/certificate -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{}' -o certificate.json`,
  `  curl -s -X POST ${sandbox.loginUrl}/_sandbox/tenants/${DEMO.tenantId}/apps/${certificateApp}/certificates -H 'Content-Type: application/json' -d @certificate.json    # = Azure's Upload certificate`,
  `  CERTIFICATE=$(grep -o '"certificate_id":"[^"]*"' certificate.json | cut -d'"' -f4)`,
  '  # Failures to try: save before uploading → AADSTS700027 (not registered); upload with "end_date" in the past → AADSTS7000274 (expired)',
  `  curl -s -X PUT ${service}/api/v1/integrations/dynamics365 -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"client_id":"${certificateApp}","certificate_id":"'$CERTIFICATE'","tenant_id":"${DEMO.tenantId}","environment_url":"${origin}"}'`,
);
const demoApp = DEMO.apps.working;
lines.push(
  '',
  'Alerts: an admin hears that the connection broke (after the first walkthrough above):',
  `  curl -s -X PUT ${service}/api/v1/notifications -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"emails":["admin@contoso.example"],"webhook_url":"${sandbox.loginUrl}/_sandbox/hooks/demo"}'`,
  `  curl -s -X DELETE ${sandbox.loginUrl}/_sandbox/tenants/${DEMO.tenantId}/apps/${demoApp.clientId}/secrets/${demoApp.secretId}    # revoke the secret`,
  '  npm run revalidate                                    # the nightly sweep, now: the connection turns invalid',
  `  curl -s ${sandbox.loginUrl}/_sandbox/mail    # one e-mail: what happened, what it breaks, what to do`,
  `  curl -s ${sandbox.loginUrl}/_sandbox/hooks   # one signed webhook (webhook-id, webhook-signature)`,
  `  curl -s ${service}/api/v1/alerts -H "Authorization: Bearer $TOKEN"`,
);
lines.push('', 'Press Ctrl+C to stop.', '');
console.log(lines.join('\n'));

const stop = () => {
  void sandbox.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
