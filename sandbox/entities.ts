import type { EntitySetName } from './model.js';

/** Table facts the sandbox needs: entity sets, keys, privileges and type codes of Dataverse's tables. */
export interface EntityInfo {
  set: EntitySetName;
  logicalName: string;
  schemaName: string;
  primaryKey: string;
  objectTypeCode: number;
  localizedName: string;
  /** Columns that can be written on create and read back. */
  columns: string[];
  /** Read-only columns set by the platform. */
  systemColumns: string[];
  /** `<navigation>@odata.bind` → entity sets it may point to. */
  navigations: Record<string, { lookup: string; targets: EntitySetName[] }>;
  creatable: boolean;
}

const CUSTOM_COLUMN = /^[a-z0-9]+_[a-z0-9_]+$/;

export const ENTITIES: Record<EntitySetName, EntityInfo> = {
  incidents: {
    set: 'incidents',
    logicalName: 'incident',
    schemaName: 'Incident',
    primaryKey: 'incidentid',
    objectTypeCode: 112,
    localizedName: 'Case',
    columns: [
      'title',
      'description',
      'prioritycode',
      'caseorigincode',
      'casetypecode',
      'severitycode',
      'customersatisfactioncode',
      'statecode',
      'statuscode',
      'routecase',
      'followupby',
    ],
    systemColumns: [
      'ticketnumber',
      'createdon',
      'modifiedon',
      '_customerid_value',
      '_ownerid_value',
      '_primarycontactid_value',
    ],
    navigations: {
      customerid_contact: { lookup: '_customerid_value', targets: ['contacts'] },
      ownerid: { lookup: '_ownerid_value', targets: ['systemusers'] },
      primarycontactid: { lookup: '_primarycontactid_value', targets: ['contacts'] },
    },
    creatable: true,
  },
  contacts: {
    set: 'contacts',
    logicalName: 'contact',
    schemaName: 'Contact',
    primaryKey: 'contactid',
    objectTypeCode: 2,
    localizedName: 'Contact',
    columns: [
      'firstname',
      'lastname',
      'emailaddress1',
      'mobilephone',
      'telephone1',
      'description',
      'statecode',
    ],
    systemColumns: ['fullname', 'createdon', 'modifiedon', '_ownerid_value'],
    navigations: { ownerid: { lookup: '_ownerid_value', targets: ['systemusers'] } },
    creatable: true,
  },
  systemusers: {
    set: 'systemusers',
    logicalName: 'systemuser',
    schemaName: 'SystemUser',
    primaryKey: 'systemuserid',
    objectTypeCode: 8,
    localizedName: 'User',
    columns: ['fullname', 'applicationid', 'isdisabled', 'domainname', 'internalemailaddress'],
    systemColumns: [],
    navigations: {},
    creatable: false,
  },
  queues: {
    set: 'queues',
    logicalName: 'queue',
    schemaName: 'Queue',
    primaryKey: 'queueid',
    objectTypeCode: 2020,
    localizedName: 'Queue',
    columns: ['name', 'emailaddress', 'queuetypecode', 'description'],
    systemColumns: [],
    navigations: {},
    creatable: false,
  },
};

export function isEntitySet(segment: string): segment is EntitySetName {
  return Object.prototype.hasOwnProperty.call(ENTITIES, segment);
}

export function isReadableColumn(entity: EntityInfo, column: string): boolean {
  return (
    column === entity.primaryKey ||
    entity.columns.includes(column) ||
    entity.systemColumns.includes(column) ||
    (entity.set === 'incidents' && CUSTOM_COLUMN.test(column) && !column.startsWith('_'))
  );
}

export function isWritableColumn(entity: EntityInfo, column: string): boolean {
  return entity.columns.includes(column) || (entity.set === 'incidents' && CUSTOM_COLUMN.test(column));
}
