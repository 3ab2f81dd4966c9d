import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { loadConfigFromProcess } from '../config/environment.js';
import { EmbeddedDatabase } from './embedded-postgres.js';
import { dataSourceOptions } from './data-source-options.js';

/**
 * For the TypeORM CLI (`npm run migration:*`). Uses DATABASE_URL, or starts the embedded server
 * under DATA_DIR (stopped again when the CLI exits, by embedded-postgres's exit hook).
 */
const config = loadConfigFromProcess();
const url =
  config.databaseUrl ?? (await new EmbeddedDatabase({ dataDir: join(config.dataDir, 'postgres') }).start());

export default new DataSource(dataSourceOptions(url));
