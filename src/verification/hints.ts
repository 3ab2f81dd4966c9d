// What the admin should do about a failed verification, in plain words. Keyed on Microsoft's
// codes (never on its description text, which Microsoft says may change).
import type { AppCredential } from '../microsoft/auth/entra-token.client.js';
import type { UpstreamFailure } from '../microsoft/upstream.js';

export interface HintInput {
  clientId: string;
  tenantId: string;
  /** A secret's shape only is looked at (a GUID means the Secret ID was pasted); a certificate's thumbprint. */
  credential: AppCredential;
  environmentUrl: string;
  messagingScope?: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const APP_USERS =
  'Power Platform admin center → your environment → Settings → Users + permissions → Application users';

export function hintFor(failure: UpstreamFailure, input: HintInput): string {
  if (failure.outcome === 'unreachable') return unreachableHint(failure);
  if (failure.stage === 'messaging_token') return messagingTokenHint(failure, input);
  return failure.stage === 'token_exchange' ? tokenHint(failure, input) : dataverseHint(failure, input);
}

/** The app's token for the Messaging API: its own failures, else those of any token. */
function messagingTokenHint(failure: UpstreamFailure, input: HintInput): string {
  switch (failure.upstreamCode) {
    case 'AADSTS500011':
      return `Entra ID does not know the Messaging API resource ${input.messagingScope ?? ''} in this tenant. Check messaging_organization_id (Power Platform admin center → your environment → Organization ID) and, outside the public cloud, messaging_scope (https://<organization id without dashes>-c.<region>.dynamics.com/.default); Omnichannel must be provisioned in the environment.`;
    case 'AADSTS1002012':
    case 'AADSTS70011':
    case 'AADSTS700022':
      return 'Entra ID refused the Messaging API scope. It must be https://<organization id without dashes>-c.<region>.dynamics.com/.default for this environment.';
    default:
      return tokenHint(failure, input);
  }
}

function tokenHint(failure: UpstreamFailure, input: HintInput): string {
  switch (failure.upstreamCode) {
    case 'AADSTS7000215':
      return input.credential.type === 'client_secret' && GUID.test(input.credential.secret.trim())
        ? "The client secret you pasted looks like the Secret ID (a GUID). In Azure Portal → App registrations → your app → Certificates & secrets, copy the secret's Value column instead (it is shown only when the secret is created; create a new secret if you no longer have it)."
        : 'The client secret is wrong. Copy the Value of a current secret from Azure Portal → App registrations → your app → Certificates & secrets (not the Secret ID), or create a new secret, then Test & Save again.';
    case 'AADSTS7000222':
      return 'The client secret has expired. Create a new client secret in Azure Portal → App registrations → your app → Certificates & secrets, paste its Value here and Test & Save; delete the old secret afterwards.';
    case 'AADSTS7000216':
      return 'No client secret was sent. Paste the Value of a client secret of the app registration.';
    case 'AADSTS700016':
      return `No application with client ID ${input.clientId} exists in tenant ${input.tenantId}. Copy the Application (client) ID and the Directory (tenant) ID from the same app registration's Overview page; a multi-tenant app must first be consented to by an admin of this tenant.`;
    case 'AADSTS90002':
      return input.tenantId.toLowerCase() === input.clientId.toLowerCase()
        ? "The tenant ID is the same as the client ID. Use the Directory (tenant) ID from the app registration's Overview page, not the Application (client) ID."
        : `Tenant ${input.tenantId} was not found. Use the Directory (tenant) ID from the app registration's Overview page — not the app's Object ID or Application (client) ID — and check that the tenant is in the same Microsoft cloud as the environment.`;
    case 'AADSTS900023':
    case 'AADSTS50059':
      return 'The tenant ID is not valid. Use the Directory (tenant) ID (a GUID) or a verified domain such as contoso.onmicrosoft.com.';
    case 'AADSTS7000112':
      return 'The application is disabled in this tenant. Enable it in Microsoft Entra admin center → Enterprise applications → your app → Properties ("Enabled for users to sign-in"), or ask your administrator.';
    case 'AADSTS500011':
      return `Entra ID does not know the resource ${input.environmentUrl} in this tenant. Check the environment URL (copy it from Power Platform admin center → your environment → Environment URL) and that the environment belongs to the same tenant as the app registration.`;
    case 'AADSTS1002012':
    case 'AADSTS70011':
    case 'AADSTS700022':
      return "Entra ID refused the requested scope. Check that the environment URL is just the environment's address, e.g. https://yourorg.crm.dynamics.com, with no path.";
    case 'AADSTS700027':
      return certificateHint(input, 'not_registered');
    case 'AADSTS7000274':
      return certificateHint(input, 'expired');
    case 'AADSTS700024':
      return "Entra ID saw the client assertion outside its valid time: this server's clock differs from Microsoft's by more than 5 minutes. Have the operator synchronise the server's time (NTP), then Test & Save again.";
    case 'AADSTS53003':
      return 'A Conditional Access policy blocks this app. Ask your Entra ID administrator to exclude the app (workload identity) from the policy.';
    default:
      return `Microsoft Entra ID rejected the credentials${failure.upstreamCode ? ` (${failure.upstreamCode})` : ''}. Check the client ID, client secret and tenant ID against the app registration.`;
  }
}

function certificateHint(input: HintInput, problem: 'not_registered' | 'expired'): string {
  const thumbprint =
    input.credential.type === 'certificate' ? ` (thumbprint ${input.credential.thumbprint})` : '';
  const where = 'Azure Portal → App registrations → your app → Certificates & secrets → Certificates';
  return problem === 'not_registered'
    ? `The app registration does not have this certificate${thumbprint}. In ${where}, upload the certificate you downloaded here (Upload certificate), then Test & Save again; a new upload can take a minute to apply. If a certificate with this thumbprint is listed, it was uploaded to another app: check the client ID.`
    : `The certificate${thumbprint} is outside its validity period (expired, or not valid yet). Generate a new certificate here, upload it in ${where}, and Test & Save with it; delete the old one from Azure afterwards.`;
}

function dataverseHint(failure: UpstreamFailure, input: HintInput): string {
  if (failure.upstreamStatus === null) {
    return `The environment ${input.environmentUrl} does not exist (its name does not resolve). Copy the Environment URL from Power Platform admin center → your environment.`;
  }
  if (failure.upstreamStatus === 401) {
    return "Dataverse did not accept the token even though Entra ID issued one. Check that the environment URL is the environment's own address and that the environment belongs to the same tenant as the app registration.";
  }
  switch (failure.upstreamCode) {
    case '0x80072560':
      return `The app has no Application User in this environment. Create one in ${APP_USERS} → New app user, for client ID ${input.clientId}, and give it a security role.`;
    case '0x80040225':
      return `The app's Application User is disabled. Activate it in ${APP_USERS}.`;
    case '0x80040220': {
      const privilege = /is missing (prv\w+) privilege/.exec(failure.message)?.[1];
      return `The Application User's security role lacks ${privilege ?? 'a required privilege'}. In ${APP_USERS} → Manage roles, assign a role that grants ${privilege ? `${privilege} (at least Read on Case)` : 'Read on Case (incident)'}; System Administrator also works.`;
    }
    case '0x80095ffc':
      return 'An environment policy blocks this application from the Dataverse API. Ask your Power Platform administrator to allow the app.';
    case '0x8006088a':
      return `${input.environmentUrl} does not serve the Dataverse Web API. Use the environment's URL exactly as Power Platform admin center shows it, e.g. https://yourorg.crm.dynamics.com.`;
    default:
      return failure.upstreamStatus === 403
        ? `Dataverse refused access (${failure.upstreamCode ?? 'HTTP 403'}). Check the Application User and its security roles in ${APP_USERS}.`
        : `Dataverse refused the request (HTTP ${failure.upstreamStatus}${failure.upstreamCode ? `, ${failure.upstreamCode}` : ''}). Check the environment URL.`;
  }
}

function unreachableHint(failure: UpstreamFailure): string {
  const who =
    failure.stage === 'token_exchange' || failure.stage === 'messaging_token'
      ? 'Microsoft Entra ID'
      : 'The Dynamics 365 environment';
  if (failure.upstreamStatus === 429)
    return `${who} is throttling requests. Nothing was changed; try again in a few minutes.`;
  if (failure.upstreamStatus === null) {
    return `${who} did not answer in time or could not be reached. Nothing was changed; try again shortly.`;
  }
  return `${who} is having problems (HTTP ${failure.upstreamStatus}). Nothing was changed; try again shortly.`;
}

/**
 * The request field a rejection is about — the one the console marks and focuses — or null when
 * the fix is elsewhere (a role in Dynamics, a policy, Microsoft being unavailable).
 */
export function fieldFor(failure: UpstreamFailure): string | null {
  if (failure.outcome === 'unreachable') return null;
  const code = failure.upstreamCode;
  if (failure.stage === 'messaging_token') {
    if (code === 'AADSTS500011') return 'messaging_organization_id';
    if (code === 'AADSTS1002012' || code === 'AADSTS70011' || code === 'AADSTS700022')
      return 'messaging_scope';
  }
  if (failure.stage === 'token_exchange' || failure.stage === 'messaging_token') {
    switch (code) {
      case 'AADSTS7000215':
      case 'AADSTS7000222':
      case 'AADSTS7000216':
        return 'client_secret';
      case 'AADSTS700027':
      case 'AADSTS7000274':
        return 'certificate_id';
      case 'AADSTS700016':
        return 'client_id';
      case 'AADSTS90002':
      case 'AADSTS900023':
      case 'AADSTS50059':
        return 'tenant_id';
      case 'AADSTS500011':
      case 'AADSTS1002012':
      case 'AADSTS70011':
      case 'AADSTS700022':
        return 'environment_url';
      default:
        return null;
    }
  }
  // Dataverse: a name that does not resolve, a token it does not take, no Web API there.
  if (failure.upstreamStatus === null || failure.upstreamStatus === 401 || code === '0x8006088a') {
    return 'environment_url';
  }
  return null;
}
