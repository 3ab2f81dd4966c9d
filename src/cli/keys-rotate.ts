import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { ConfigError } from '../config/app-config.js';
import { loadConfigFromProcess } from '../config/environment.js';
import { dataSourceOptions } from '../database/data-source-options.js';
import { EmbeddedDatabase } from '../database/embedded-postgres.js';
import { rotateSecrets } from '../settings/key-rotation.js';
import { SecretCipher } from '../settings/secret-cipher.service.js';

/**
 * `npm run keys:rotate [-- --batch-size 100]`: re-encrypts every stored client secret under the
 * first key of ENCRYPTION_KEYS and prints a JSON report. Exit 0 when no row is left on an old key.
 */
async function main(): Promise<number> {
  const { values } = parseArgs({ options: { 'batch-size': { type: 'string', default: '100' } } });
  const batchSize = Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10000) {
    console.error('--batch-size must be an integer between 1 and 10000');
    return 2;
  }
  const config = loadConfigFromProcess();
  const embedded = config.databaseUrl
    ? undefined
    : new EmbeddedDatabase({ dataDir: join(config.dataDir, 'postgres') });
  const url = config.databaseUrl ?? (await embedded!.start());
  const dataSource = new DataSource(dataSourceOptions(url));
  try {
    await dataSource.initialize();
    const report = await rotateSecrets(dataSource, new SecretCipher(config), batchSize);
    console.log(JSON.stringify(report, null, 2));
    return Object.keys(report.remaining_on_old_keys).length === 0 ? 0 : 1;
  } finally {
    await dataSource.destroy().catch(() => undefined);
    await embedded?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(1);
  },
);
