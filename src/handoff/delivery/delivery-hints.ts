// What the Dynamics admin should do when a delivery step is refused, in the style of the
// verification hints: keyed on the stage and Microsoft's code, never on its description text
// (except to name the privilege or record Dataverse names in it).
import { describeStep } from '../../microsoft/dynamics-client/handoff-privileges.js';
import type { UpstreamFailure } from '../../microsoft/upstream.js';

const APP_USERS =
  'Power Platform admin center → your environment → Settings → Users + permissions → Application users';

/** Codes that mean the app cannot act in the environment at all: the connection is invalid. */
export const CONNECTION_CODES = ['0x80072560', '0x80040225'];

const CHANNEL_RECORD = 'the custom messaging channel record (msdyn_occustommessagingchannel)';

export function deliveryHint(
  failure: UpstreamFailure,
  settings: {
    defaultQueueId: string | null;
    defaultOwnerId: string | null;
    clientId: string;
    messagingChannelId: string | null;
    messagingOrganizationId: string | null;
  },
): string {
  if (failure.stage === 'conversation_create' || failure.stage === 'message_send') {
    return messagingHint(failure, settings);
  }
  // The same table readiness checks against (handoff-privileges.ts).
  const step = describeStep(failure.stage);
  switch (failure.upstreamCode) {
    case '0x80040220': {
      const privilege = /is missing (prv\w+) privilege/.exec(failure.message)?.[1];
      return `The Application User's security role lacks ${privilege ?? 'a privilege this step needs'}. In ${APP_USERS} → Manage roles, grant ${step ?? privilege}, then retry the handoff.`;
    }
    case '0x80072560':
      return `The app has no Application User in this environment any more. Create one in ${APP_USERS}; held handoffs resume when Test & Save or Verify succeeds.`;
    case '0x80040225':
      if (failure.upstreamStatus !== 403) {
        return `The default owner ${settings.defaultOwnerId ?? ''} is disabled, and a disabled user cannot own records. Enable the user (Power Platform admin center → Users) or set default_owner_id to an enabled user, or clear it; then retry the handoff.`;
      }
      return `The app's Application User is disabled. Activate it in ${APP_USERS}; held handoffs resume when Test & Save or Verify succeeds.`;
    case '0x80040217':
      if (failure.stage === 'add_to_queue' || /^queue /i.test(failure.message)) {
        return `The default queue ${settings.defaultQueueId ?? ''} does not exist in this environment. Set default_queue_id to the GUID of an existing queue (Customer Service admin center → Queues), or clear it to let unified routing decide; then retry the handoff.`;
      }
      if (/^systemuser /i.test(failure.message)) {
        return `The default owner ${settings.defaultOwnerId ?? ''} does not exist in this environment. Set default_owner_id to an existing user's GUID, or clear it; then retry the handoff.`;
      }
      return `Dataverse could not find a record the case refers to (${failure.message}). Check the lookups in ticket_properties; then retry the handoff.`;
    case '0x80060891':
    case '0x80060888':
      return `Dataverse refused a column of the case: ${failure.message} Check ticket_properties (column names are the logical names in lower case, lookups are "<navigation property>@odata.bind"); then retry the handoff.`;
    case '0x80044331':
      return `A value is longer than its Dataverse column allows: ${failure.message} Shorten it in ticket_properties; then retry the handoff.`;
    default:
      return failure.upstreamStatus === 403
        ? `Dataverse refused the ${failure.stage.replace('_', ' ')} step (${failure.upstreamCode ?? 'HTTP 403'}). The Application User needs ${step ?? 'more privileges'}.`
        : `Dataverse refused the ${failure.stage.replace('_', ' ')} step (HTTP ${failure.upstreamStatus}${failure.upstreamCode ? `, ${failure.upstreamCode}` : ''}): ${failure.message}`;
  }
}

/** The Omnichannel Messaging API's refusals (its 300xx codes, or 401 for the channel). */
function messagingHint(
  failure: UpstreamFailure,
  settings: { clientId: string; messagingChannelId: string | null; messagingOrganizationId: string | null },
): string {
  if (failure.upstreamStatus === 401) {
    return `The Messaging API refused this app for the channel. In ${CHANNEL_RECORD} ${settings.messagingChannelId ?? ''}, msdyn_appid must be ${settings.clientId} and msdyn_tenantid your tenant; then retry the handoff.`;
  }
  switch (failure.upstreamCode) {
    case '30001':
      return `The Messaging API does not know organization ${settings.messagingOrganizationId ?? ''}. Set messaging_organization_id to the environment's Organization ID (Power Platform admin center → your environment) and messaging_endpoint to that organization's endpoint; then retry.`;
    case '30002':
    case '30004':
      return `The messaging channel ${settings.messagingChannelId ?? ''} does not exist. Create ${CHANNEL_RECORD} (msdyn_occustomchannelid 192350005, msdyn_appid ${settings.clientId}, msdyn_webhookurl this service's webhook) and set messaging_channel_id to its id; then retry.`;
    case '30014':
      return `The messaging channel ${settings.messagingChannelId ?? ''} is not linked to a workstream. In Copilot Service admin center → Workstreams, add the Messaging API channel to a messaging workstream with routing rules; then retry.`;
    default:
      return `The Messaging API refused the ${failure.stage.replace('_', ' ')} step (HTTP ${failure.upstreamStatus}${failure.upstreamCode ? `, ${failure.upstreamCode}` : ''}): ${failure.message} If this repeats, report it with the session id.`;
  }
}
