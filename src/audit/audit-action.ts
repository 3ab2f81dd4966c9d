/** What the audit log records. */
export const AUDIT_ACTIONS = [
  'integration.saved',
  'integration.save_rejected',
  'integration.disconnected',
  'integration.certificate_created',
  'integration.status_changed',
  'integration.readiness_changed',
  'notifications.changed',
  'customer_data.erased',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];
