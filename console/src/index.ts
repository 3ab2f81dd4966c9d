// For hosts that embed the components: `import { Dynamics365Integration } from '…/index.js'`.
export { Dynamics365Integration } from './dynamics365-integration.js';
export { Dynamics365AuditLog } from './dynamics365-audit-log.js';
export { Dynamics365Handoffs } from './dynamics365-handoffs.js';
export { Dynamics365Notifications } from './dynamics365-notifications.js';
export { Api, ApiError, UNAUTHORIZED_EVENT, type TokenProvider } from './api.js';
