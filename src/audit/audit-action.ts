/**
 * What the audit log records. Rows of `audit_events` are written and read with SQL (see
 * AuditService and AuditRepository): the chain hash is computed by the database.
 */
export type AuditAction =
  | 'integration.saved'
  | 'integration.save_rejected'
  | 'integration.disconnected'
  | 'integration.status_changed';
