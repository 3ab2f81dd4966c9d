// The Dataverse tables the sandbox simulates, with what Microsoft's table reference says of each
// column: type, maximum length, option set labels, lookups and the navigation properties that
// bind them, privileges and object type codes.
export type EntitySetName =
  | 'incidents'
  | 'contacts'
  | 'accounts'
  | 'systemusers'
  | 'queues'
  | 'queueitems'
  | 'annotations'
  | 'msdyn_liveworkstreams'
  | 'teams';

export const ENTITY_SETS: EntitySetName[] = [
  'incidents',
  'contacts',
  'accounts',
  'systemusers',
  'queues',
  'queueitems',
  'annotations',
  'msdyn_liveworkstreams',
  'teams',
];

type ColumnType =
  | { type: 'string'; maxLength: number }
  | { type: 'memo'; maxLength: number }
  | { type: 'integer' }
  | { type: 'boolean'; labels: [string, string] }
  | { type: 'datetime' }
  | { type: 'optionset'; options: Record<number, string> }
  | { type: 'guid' };

export interface Column {
  name: string;
  kind: ColumnType;
  /** Set by the platform; a client may not write it. */
  readOnly?: boolean;
}

/** A lookup column (`_x_value`) and the single-valued navigation properties that write and expand it. */
export interface Lookup {
  /** e.g. `_customerid_value` */
  column: string;
  /** Navigation property → the entity set it points to. */
  navigations: Record<string, EntitySetName>;
  /** A navigation that binds to more than one table: `ownerid` takes a user or a team. */
  bindTargets?: Record<string, EntitySetName[]>;
}

export interface EntityInfo {
  set: EntitySetName;
  logicalName: string;
  schemaName: string;
  /** Privilege names are `prv<Action><privilegeStem>` (notes: `prvCreateNote`). */
  privilegeStem: string;
  primaryKey: string;
  /** The column a lookup's FormattedValue shows. */
  primaryName: string;
  objectTypeCode: number;
  localizedName: string;
  columns: Column[];
  lookups: Lookup[];
  creatable: boolean;
}

const text = (name: string, maxLength: number, readOnly = false): Column => ({
  name,
  kind: { type: 'string', maxLength },
  readOnly,
});
const memo = (name: string, maxLength: number): Column => ({ name, kind: { type: 'memo', maxLength } });
const options = (name: string, values: Record<number, string>): Column => ({
  name,
  kind: { type: 'optionset', options: values },
});
const date = (name: string, readOnly = false): Column => ({ name, kind: { type: 'datetime' }, readOnly });
const flag = (name: string, labels: [string, string] = ['No', 'Yes']): Column => ({
  name,
  kind: { type: 'boolean', labels },
});
const audited = [date('createdon', true), date('modifiedon', true)];
const owner: Lookup = {
  column: '_ownerid_value',
  navigations: { ownerid: 'systemusers' },
  bindTargets: { ownerid: ['systemusers', 'teams'] },
};

export const ENTITIES: Record<EntitySetName, EntityInfo> = {
  incidents: {
    set: 'incidents',
    logicalName: 'incident',
    schemaName: 'Incident',
    privilegeStem: 'Incident',
    primaryKey: 'incidentid',
    primaryName: 'title',
    objectTypeCode: 112,
    localizedName: 'Case',
    columns: [
      text('title', 200),
      memo('description', 2000),
      text('ticketnumber', 100, true),
      options('prioritycode', { 1: 'High', 2: 'Normal', 3: 'Low' }),
      options('caseorigincode', {
        1: 'Phone',
        2: 'Email',
        3: 'Web',
        2483: 'Facebook',
        3986: 'Twitter',
        700610000: 'IoT',
      }),
      options('casetypecode', { 1: 'Question', 2: 'Problem', 3: 'Request' }),
      options('severitycode', { 1: 'Default Value' }),
      options('customersatisfactioncode', {
        1: 'Very Dissatisfied',
        2: 'Dissatisfied',
        3: 'Neutral',
        4: 'Satisfied',
        5: 'Very Satisfied',
      }),
      options('statecode', { 0: 'Active', 1: 'Resolved', 2: 'Cancelled' }),
      options('statuscode', {
        1: 'In Progress',
        2: 'On Hold',
        3: 'Waiting for Details',
        4: 'Researching',
        5: 'Problem Solved',
        1000: 'Information Provided',
        6: 'Cancelled',
        2000: 'Merged',
      }),
      flag('routecase'),
      date('followupby'),
      ...audited,
    ],
    lookups: [
      {
        column: '_customerid_value',
        navigations: { customerid_contact: 'contacts', customerid_account: 'accounts' },
      },
      owner,
      { column: '_primarycontactid_value', navigations: { primarycontactid: 'contacts' } },
      { column: '_parentcaseid_value', navigations: { parentcaseid: 'incidents' } },
    ],
    creatable: true,
  },
  contacts: {
    set: 'contacts',
    logicalName: 'contact',
    schemaName: 'Contact',
    privilegeStem: 'Contact',
    primaryKey: 'contactid',
    primaryName: 'fullname',
    objectTypeCode: 2,
    localizedName: 'Contact',
    columns: [
      text('firstname', 50),
      text('lastname', 50),
      text('fullname', 160, true),
      text('emailaddress1', 100),
      text('mobilephone', 50),
      text('telephone1', 50),
      memo('description', 2000),
      options('statecode', { 0: 'Active', 1: 'Inactive' }),
      options('statuscode', { 1: 'Active', 2: 'Inactive' }),
      ...audited,
    ],
    lookups: [
      owner,
      { column: '_parentcustomerid_value', navigations: { parentcustomerid_account: 'accounts' } },
    ],
    creatable: true,
  },
  accounts: {
    set: 'accounts',
    logicalName: 'account',
    schemaName: 'Account',
    privilegeStem: 'Account',
    primaryKey: 'accountid',
    primaryName: 'name',
    objectTypeCode: 1,
    localizedName: 'Account',
    columns: [
      text('name', 160),
      text('emailaddress1', 100),
      text('telephone1', 50),
      memo('description', 2000),
      options('statecode', { 0: 'Active', 1: 'Inactive' }),
      options('statuscode', { 1: 'Active', 2: 'Inactive' }),
      ...audited,
    ],
    lookups: [owner],
    creatable: true,
  },
  systemusers: {
    set: 'systemusers',
    logicalName: 'systemuser',
    schemaName: 'SystemUser',
    privilegeStem: 'User',
    primaryKey: 'systemuserid',
    primaryName: 'fullname',
    objectTypeCode: 8,
    localizedName: 'User',
    columns: [
      text('fullname', 200, true),
      { name: 'applicationid', kind: { type: 'guid' }, readOnly: true },
      flag('isdisabled', ['Enabled', 'Disabled']),
      text('domainname', 1024),
      text('internalemailaddress', 100),
    ],
    lookups: [],
    creatable: false,
  },
  queues: {
    set: 'queues',
    logicalName: 'queue',
    schemaName: 'Queue',
    privilegeStem: 'Queue',
    primaryKey: 'queueid',
    primaryName: 'name',
    objectTypeCode: 2020,
    localizedName: 'Queue',
    columns: [
      text('name', 200),
      text('emailaddress', 100),
      options('queueviewtype', { 0: 'Public', 1: 'Private' }),
      options('statecode', { 0: 'Active', 1: 'Inactive' }),
      memo('description', 2000),
      ...audited,
    ],
    lookups: [owner],
    creatable: false,
  },
  queueitems: {
    set: 'queueitems',
    logicalName: 'queueitem',
    schemaName: 'QueueItem',
    privilegeStem: 'QueueItem',
    primaryKey: 'queueitemid',
    primaryName: 'title',
    objectTypeCode: 2029,
    localizedName: 'Queue Item',
    columns: [
      text('title', 300, true),
      options('objecttypecode', { 112: 'Case' }),
      date('enteredon', true),
      options('statecode', { 0: 'Active', 1: 'Inactive' }),
      ...audited,
    ],
    lookups: [
      { column: '_queueid_value', navigations: { queueid: 'queues' } },
      { column: '_objectid_value', navigations: { objectid_incident: 'incidents' } },
    ],
    creatable: false,
  },
  // Teams own records as users do (ownerid@odata.bind: /teams(<id>)); read-only here.
  teams: {
    set: 'teams',
    logicalName: 'team',
    schemaName: 'Team',
    privilegeStem: 'Team',
    primaryKey: 'teamid',
    primaryName: 'name',
    objectTypeCode: 9,
    localizedName: 'Team',
    columns: [
      text('name', 160, true),
      options('teamtype', { 0: 'Owner', 1: 'Access', 2: 'Security Group', 3: 'Office Group' }),
      ...audited,
    ],
    lookups: [],
    creatable: false,
  },
  // Omnichannel's workstreams (msdyn_liveworkstream), read-only here: the admin creates them.
  msdyn_liveworkstreams: {
    set: 'msdyn_liveworkstreams',
    logicalName: 'msdyn_liveworkstream',
    schemaName: 'msdyn_liveworkstream',
    privilegeStem: 'msdyn_liveworkstream',
    primaryKey: 'msdyn_liveworkstreamid',
    primaryName: 'msdyn_name',
    objectTypeCode: 10_573,
    localizedName: 'Work Stream',
    columns: [
      text('msdyn_name', 100, true),
      options('msdyn_streamsource', { 192_330_000: 'Messaging', 192_350_000: 'Entity Records' }),
      options('statecode', { 0: 'Active', 1: 'Inactive' }),
      ...audited,
    ],
    lookups: [owner],
    creatable: false,
  },
  annotations: {
    set: 'annotations',
    logicalName: 'annotation',
    schemaName: 'Annotation',
    privilegeStem: 'Note',
    primaryKey: 'annotationid',
    primaryName: 'subject',
    objectTypeCode: 5,
    localizedName: 'Note',
    columns: [
      text('subject', 500),
      memo('notetext', 100_000),
      flag('isdocument'),
      text('objecttypecode', 100, true),
      ...audited,
    ],
    lookups: [
      owner,
      {
        column: '_objectid_value',
        navigations: {
          objectid_incident: 'incidents',
          objectid_contact: 'contacts',
          objectid_account: 'accounts',
        },
      },
    ],
    creatable: true,
  },
};

export function isEntitySet(segment: string): segment is EntitySetName {
  return Object.prototype.hasOwnProperty.call(ENTITIES, segment);
}

/** The lookup a navigation property binds, with the set it points to. */
export function navigationOf(
  entity: EntityInfo,
  navigation: string,
): { lookup: Lookup; target: EntitySetName } | undefined {
  for (const lookup of entity.lookups) {
    const target = lookup.navigations[navigation];
    if (target) return { lookup, target };
  }
  return undefined;
}

/** The navigation property through which a lookup points at a record of `target`. */
export function navigationFor(lookup: Lookup, target: EntitySetName): string | undefined {
  return (
    Object.entries(lookup.navigations).find(([, set]) => set === target)?.[0] ??
    Object.entries(lookup.bindTargets ?? {}).find(([, sets]) => sets.includes(target))?.[0]
  );
}
