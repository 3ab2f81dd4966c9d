// What each Dataverse step of a handoff asks of the application user's security roles: one table,
// read by the delivery hints (what to grant when a step was refused) and by readiness (what is
// missing before any step is tried), so the two never disagree. Privilege names are Dataverse's
// `prv<Action><Table schema name>` (notes: `Note`); see Microsoft's "Security roles and privileges".
import type { UpstreamStage } from '../upstream.js';

/** Dataverse's privilege depths (PrivilegeDepth), narrowest first: user, business unit, parent: child units, organization. */
export type PrivilegeDepth = 'Basic' | 'Local' | 'Deep' | 'Global';

export const DEPTHS: readonly PrivilegeDepth[] = ['Basic', 'Local', 'Deep', 'Global'];

/** How the depth reads in the role editor of the Power Platform admin center. */
export const DEPTH_LABELS: Record<PrivilegeDepth, string> = {
  Basic: 'User',
  Local: 'Business Unit',
  Deep: 'Parent: Child Business Units',
  Global: 'Organization',
};

export interface RequiredPrivilege {
  name: string;
  /** As the role editor shows it, e.g. "Create on Case". */
  label: string;
  /** The narrowest depth that works; any depth when omitted. */
  depth?: PrivilegeDepth;
  /** Why that depth, when one is required. */
  why?: string;
  /** Needed only with this default set. */
  when?: 'default_owner_id' | 'default_queue_id';
}

export type HandoffDataverseStep =
  'contact_lookup' | 'contact_create' | 'incident_create' | 'incident_read' | 'note_create' | 'add_to_queue';

/** The steps in the order a case handoff takes them. */
const HANDOFF_STEPS: readonly HandoffDataverseStep[] = [
  'contact_lookup',
  'contact_create',
  'incident_create',
  'incident_read',
  'note_create',
  'add_to_queue',
];

const privilege = (
  name: string,
  label: string,
  more: Partial<RequiredPrivilege> = {},
): RequiredPrivilege => ({
  name,
  label,
  ...more,
});

const STEP_PRIVILEGES: Record<HandoffDataverseStep, readonly RequiredPrivilege[]> = {
  contact_lookup: [
    privilege('prvReadContact', 'Read on Contact', {
      depth: 'Global',
      why: 'the customer is looked up by e-mail among all contacts; at a narrower depth the lookup sees only the contacts the app owns, and every handoff creates a duplicate',
    }),
  ],
  contact_create: [privilege('prvCreateContact', 'Create on Contact')],
  incident_create: [
    privilege('prvCreateIncident', 'Create on Case'),
    privilege('prvAppendIncident', 'Append on Case'),
    privilege('prvReadIncident', 'Read on Case'),
    privilege('prvAppendToContact', 'Append To on Contact'),
    privilege('prvAssignIncident', 'Assign on Case', { when: 'default_owner_id' }),
  ],
  incident_read: [privilege('prvReadIncident', 'Read on Case')],
  note_create: [
    privilege('prvCreateNote', 'Create on Note'),
    privilege('prvAppendNote', 'Append on Note'),
    privilege('prvAppendToIncident', 'Append To on Case'),
  ],
  add_to_queue: [
    privilege('prvReadQueue', 'Read on Queue', { when: 'default_queue_id' }),
    privilege('prvAppendToQueue', 'Append To on Queue', { when: 'default_queue_id' }),
    privilege('prvCreateQueueItem', 'Create on Queue Item', { when: 'default_queue_id' }),
    privilege('prvWriteQueueItem', 'Write on Queue Item', { when: 'default_queue_id' }),
  ],
};

/** What a step needs, as one sentence for a hint: "Create on Case (prvCreateIncident), …". */
export function describeStep(step: UpstreamStage): string | undefined {
  const needed = STEP_PRIVILEGES[step as HandoffDataverseStep];
  if (!needed) return undefined;
  return needed
    .map(
      (p) =>
        `${p.label}${p.depth ? ` at ${DEPTH_LABELS[p.depth]} depth` : ''} (${p.name})${p.when ? ` when ${p.when} is set` : ''}`,
    )
    .join(', ');
}

/** Every privilege a handoff may need with these defaults, each once, with the steps that need it. */
export function requiredPrivileges(defaults: {
  default_owner_id: boolean;
  default_queue_id: boolean;
}): { privilege: RequiredPrivilege; steps: HandoffDataverseStep[] }[] {
  const byName = new Map<string, { privilege: RequiredPrivilege; steps: HandoffDataverseStep[] }>();
  for (const step of HANDOFF_STEPS) {
    for (const p of STEP_PRIVILEGES[step]) {
      if (p.when && !defaults[p.when]) continue;
      const entry = byName.get(p.name);
      if (entry) {
        entry.steps.push(step);
        if (p.depth && !entry.privilege.depth) entry.privilege = p;
      } else byName.set(p.name, { privilege: p, steps: [step] });
    }
  }
  return [...byName.values()];
}
