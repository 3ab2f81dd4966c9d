/** Every TypeORM entity of the service (listed, not globbed, so tests and builds load the same set). */
import type { EntitySchema } from 'typeorm';

export const ENTITIES: (EntitySchema | (new () => object))[] = [];
