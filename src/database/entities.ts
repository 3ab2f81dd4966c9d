import { IntegrationSettings } from '../settings/settings.entity.js';

/** Every TypeORM entity of the service (listed, not globbed, so tests and builds load the same set). */
export const ENTITIES = [IntegrationSettings];
