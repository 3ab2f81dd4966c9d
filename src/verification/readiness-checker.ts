// Readiness (DESIGN §11): after the probe passes, proof that the application user can do everything
// a handoff will ask — before a customer waits. With the verification's own token: WhoAmI, then
// the user's privileges among those the handoff steps need (handoff-privileges.ts, the table the
// delivery hints read too), each with its depth; the default queue, owner and workstream exist and
// are usable; with messaging, a read of the channel's conversations. Two Dataverse calls: WhoAmI
// with the default records in one $batch, then the privileges (the messaging read runs meanwhile).
import { Injectable } from '@nestjs/common';
import {
  DataverseCall,
  DataverseClient,
  DataverseRecord,
} from '../microsoft/dynamics-client/dataverse.client.js';
import {
  DEPTH_LABELS,
  DEPTHS,
  HandoffDataverseStep,
  PrivilegeDepth,
  requiredPrivileges,
} from '../microsoft/dynamics-client/handoff-privileges.js';
import { MessagingClient } from '../microsoft/messaging-client/messaging.client.js';
import { UpstreamFailure } from '../microsoft/upstream.js';
import type { IntegrationSettings } from '../settings/settings.entity.js';
import type { Readiness, ReadinessCheck } from '../settings/verification.types.js';

/** What a handoff of this org will use, besides the credentials. */
export interface ReadinessTarget {
  defaultQueueId: string | null;
  defaultOwnerId: string | null;
  defaultWorkstreamId: string | null;
  messaging: { endpoint: string; channelId: string; organizationId: string } | null;
}

/** The readiness target of a stored connection. */
export function readinessTargetOf(
  row: Pick<
    IntegrationSettings,
    | 'defaultQueueId'
    | 'defaultOwnerId'
    | 'defaultWorkstreamId'
    | 'messagingEndpoint'
    | 'messagingChannelId'
    | 'messagingOrganizationId'
  >,
): ReadinessTarget {
  return {
    defaultQueueId: row.defaultQueueId,
    defaultOwnerId: row.defaultOwnerId,
    defaultWorkstreamId: row.defaultWorkstreamId,
    messaging:
      row.messagingEndpoint && row.messagingChannelId && row.messagingOrganizationId
        ? {
            endpoint: row.messagingEndpoint,
            channelId: row.messagingChannelId,
            organizationId: row.messagingOrganizationId,
          }
        : null,
  };
}

const APP_USERS =
  'Power Platform admin center → Manage → Environments → your environment → Settings → Users + permissions → Application users → this app → Edit security roles';

/** What breaks, in the admin's words, when a step cannot run. */
const STEP_EFFECT: Record<HandoffDataverseStep, string> = {
  contact_lookup: "finding the customer's existing contact",
  contact_create: 'creating a contact for a new customer',
  incident_create: 'creating the case',
  incident_read: "reading the case's number",
  note_create: 'attaching the transcript as a note',
  add_to_queue: 'adding the case to the default queue',
};

/** Readiness could not be established (Microsoft did not answer): the previous one stands. */
export class ReadinessUnavailable extends Error {}

@Injectable()
export class ReadinessChecker {
  constructor(
    private readonly dataverse: DataverseClient,
    private readonly messaging: MessagingClient,
  ) {}

  async check(
    environmentUrl: string,
    accessToken: string,
    messagingToken: string | null,
    target: ReadinessTarget,
    options: Pick<DataverseCall, 'retry' | 'budget'>,
  ): Promise<Readiness> {
    const call: DataverseCall = { environmentUrl, accessToken, stage: 'readiness', ...options };
    const [dataverse, messaging] = await Promise.all([
      this.dataverseChecks(call, target),
      target.messaging && messagingToken ? this.messagingCheck(target.messaging, messagingToken) : null,
    ]);
    const checks = [...dataverse, ...(messaging ? [messaging] : [])];
    return { checked_at: new Date().toISOString(), ready: checks.every((c) => c.ok), checks };
  }

  /**
   * Two Dataverse round trips: WhoAmI and the default records in one `$batch` (WhoAmI alone when
   * no default is set), then the user's privileges.
   */
  private async dataverseChecks(call: DataverseCall, target: ReadinessTarget): Promise<ReadinessCheck[]> {
    const records: { path: string; judge: (answer: Answer) => ReadinessCheck }[] = [];
    if (target.defaultQueueId) {
      const id = target.defaultQueueId;
      records.push({ path: `/queues(${id})?$select=name,statecode`, judge: (a) => queueCheck(a, id) });
    }
    if (target.defaultOwnerId) {
      const id = target.defaultOwnerId;
      records.push({
        path: `/systemusers(${id})?$select=fullname,isdisabled`,
        judge: (a) => ownerCheck(a, id),
      });
    }
    if (target.defaultWorkstreamId) {
      const id = target.defaultWorkstreamId;
      records.push({
        path: `/msdyn_liveworkstreams(${id})?$select=msdyn_name,statecode`,
        judge: (a) => workstreamCheck(a, id),
      });
    }
    let user: Answer;
    let answers: Answer[] = [];
    if (records.length === 0) {
      user = await guarded(async () => ({ UserId: (await this.dataverse.whoAmI(call)).userId }));
    } else {
      const batch = await guarded(() =>
        this.dataverse.batchGet(call, ['/WhoAmI', ...records.map((r) => r.path)]),
      );
      if ('refused' in batch) {
        user = batch;
        answers = records.map(() => batch);
      } else {
        [user, ...answers] = batch.value.map((part) => {
          if ('record' in part) return { value: part.record };
          if (part.failure.outcome === 'rejected') return { refused: part.failure };
          throw new ReadinessUnavailable(part.failure.message);
        });
      }
    }
    const userId = 'value' in user && typeof user.value.UserId === 'string' ? user.value.UserId : null;
    const privileges = await this.privilegeChecks(
      call,
      target,
      userId,
      'refused' in user ? user.refused : null,
    );
    return [...privileges, ...records.map((r, i) => r.judge(answers[i]))];
  }

  private async privilegeChecks(
    call: DataverseCall,
    target: ReadinessTarget,
    userId: string | null,
    refused: UpstreamFailure | null,
  ): Promise<ReadinessCheck[]> {
    if (!userId) {
      return [
        {
          check: 'application_user',
          ok: false,
          detail: `WhoAmI was refused: ${refused?.message ?? 'no UserId in the answer'}`,
          hint: `Check the application user in ${APP_USERS.split(' → this app')[0]}.`,
        },
      ];
    }
    const needed = requiredPrivileges({
      default_owner_id: target.defaultOwnerId !== null,
      default_queue_id: target.defaultQueueId !== null,
    });
    const held = await guarded(() =>
      this.dataverse.userPrivileges(
        call,
        userId,
        needed.map((n) => n.privilege.name),
      ),
    );
    const checks: ReadinessCheck[] = [
      { check: 'application_user', ok: true, detail: `systemuser ${userId}`, hint: null },
    ];
    if ('refused' in held) {
      checks.push({
        check: 'privileges',
        ok: false,
        detail: `The privileges could not be read: ${held.refused.message}`,
        hint: `Grant the application user Read on User (prvReadUser), or check its roles by hand in ${APP_USERS}.`,
      });
      return checks;
    }
    for (const { privilege, steps } of needed) {
      const depth = held.value.get(privilege.name) as PrivilegeDepth | undefined;
      const effect = steps.map((s) => STEP_EFFECT[s]).join(' and ');
      const wide = !privilege.depth || (depth && DEPTHS.indexOf(depth) >= DEPTHS.indexOf(privilege.depth));
      if (depth && wide) {
        checks.push({
          check: `privilege:${privilege.name}`,
          ok: true,
          detail: `${privilege.label}: ${DEPTH_LABELS[depth] ?? depth} depth`,
          hint: null,
        });
      } else if (depth) {
        checks.push({
          check: `privilege:${privilege.name}`,
          ok: false,
          detail: `${privilege.label} is held at ${DEPTH_LABELS[depth] ?? depth} depth only; ${privilege.depth ? DEPTH_LABELS[privilege.depth] : ''} is needed`,
          hint: `Raise ${privilege.label} (${privilege.name}) to ${DEPTH_LABELS[privilege.depth!]} depth in the application user's security role (${APP_USERS}): ${privilege.why}.`,
        });
      } else {
        checks.push({
          check: `privilege:${privilege.name}`,
          ok: false,
          detail: `${privilege.label} (${privilege.name}) is missing`,
          hint: `Grant ${privilege.label} (${privilege.name})${privilege.depth ? ` at ${DEPTH_LABELS[privilege.depth]} depth` : ''} in a security role of the application user (${APP_USERS}). Without it, ${effect} fails.`,
        });
      }
    }
    return checks;
  }

  private async messagingCheck(
    messaging: NonNullable<ReadinessTarget['messaging']>,
    accessToken: string,
  ): Promise<ReadinessCheck> {
    const read = await guarded(() => this.messaging.listConversations({ ...messaging, accessToken }, 1));
    if ('refused' in read) {
      const code = read.refused.upstreamCode ? ` (${read.refused.upstreamCode})` : '';
      return {
        check: 'messaging_conversations',
        ok: false,
        detail: `The Messaging API refused to list the channel's conversations${code}: ${read.refused.message}`,
        hint:
          read.refused.upstreamStatus === 401
            ? `In the custom messaging channel record ${messaging.channelId}, msdyn_appid must be this app's client ID and msdyn_tenantid your tenant. Without it, chats cannot start as conversations.`
            : `Check messaging_channel_id, messaging_organization_id and messaging_endpoint against the channel record and the environment. Without them, chats cannot start as conversations.`,
      };
    }
    return {
      check: 'messaging_conversations',
      ok: true,
      detail: `The Messaging API answers for channel ${messaging.channelId}`,
      hint: null,
    };
  }
}

type Answer = { value: DataverseRecord } | { refused: UpstreamFailure };

function queueCheck(queue: Answer, id: string): ReadinessCheck {
  const fix =
    'Set default_queue_id to an active queue (Customer Service admin center → Queues), or clear it to let unified routing decide';
  if ('refused' in queue)
    return refusedRecord(
      'default_queue',
      `queue ${id}`,
      queue.refused,
      fix,
      'adding the case to the default queue',
    );
  if (queue.value.statecode === 1) {
    return {
      check: 'default_queue',
      ok: false,
      detail: `Queue "${String(queue.value.name)}" is inactive`,
      hint: `Activate the queue or ${fix.charAt(0).toLowerCase()}${fix.slice(1)}. Without it, adding the case to the default queue fails.`,
    };
  }
  return {
    check: 'default_queue',
    ok: true,
    detail: `Queue "${String(queue.value.name)}" is active`,
    hint: null,
  };
}

function ownerCheck(owner: Answer, id: string): ReadinessCheck {
  const fix = "Set default_owner_id to an enabled user's id, or clear it (the case stays with the app)";
  if ('refused' in owner)
    return refusedRecord('default_owner', `user ${id}`, owner.refused, fix, 'creating the case');
  if (owner.value.isdisabled === true) {
    return {
      check: 'default_owner',
      ok: false,
      detail: `User "${String(owner.value.fullname)}" is disabled`,
      hint: `Enable the user (Power Platform admin center → Users) or: ${fix}. A disabled user cannot own records: creating the case fails.`,
    };
  }
  return {
    check: 'default_owner',
    ok: true,
    detail: `User "${String(owner.value.fullname)}" is enabled`,
    hint: null,
  };
}

function workstreamCheck(workstream: Answer, id: string): ReadinessCheck {
  const fix =
    'Set default_workstream_id to an active workstream (Customer Service admin center → Workstreams), or clear it';
  if ('refused' in workstream)
    return refusedRecord(
      'default_workstream',
      `workstream ${id}`,
      workstream.refused,
      fix,
      'routing the conversation',
    );
  if (workstream.value.statecode === 1) {
    return {
      check: 'default_workstream',
      ok: false,
      detail: `Workstream "${String(workstream.value.msdyn_name)}" is inactive`,
      hint: `${fix}.`,
    };
  }
  return {
    check: 'default_workstream',
    ok: true,
    detail: `Workstream "${String(workstream.value.msdyn_name)}" is active`,
    hint: null,
  };
}

/** A definite refusal is a check's answer; no answer at all means readiness is unknown. */
async function guarded<T>(read: () => Promise<T>): Promise<{ value: T } | { refused: UpstreamFailure }> {
  try {
    return { value: await read() };
  } catch (error) {
    if (error instanceof UpstreamFailure && error.outcome === 'rejected') return { refused: error };
    if (error instanceof UpstreamFailure) throw new ReadinessUnavailable(error.message);
    throw error;
  }
}

function refusedRecord(
  check: string,
  what: string,
  failure: UpstreamFailure,
  fix: string,
  breaks: string,
): ReadinessCheck {
  if (failure.upstreamStatus === 404) {
    return {
      check,
      ok: false,
      detail: `The ${what} does not exist in this environment`,
      hint: `${fix}. Without it, ${breaks} fails.`,
    };
  }
  const privilege = /is missing (prv\w+) privilege/.exec(failure.message)?.[1];
  return {
    check,
    ok: false,
    detail: `The ${what} could not be read${privilege ? `: ${privilege} is missing` : ` (${failure.upstreamCode ?? `HTTP ${failure.upstreamStatus}`})`}`,
    hint: privilege
      ? `Grant ${privilege} to the application user (${APP_USERS}). Without it, ${breaks} fails.`
      : `${fix}. Without it, ${breaks} fails.`,
  };
}
