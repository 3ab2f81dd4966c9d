import { join } from 'node:path';
import pino from 'pino';
import { ConfigError } from '../config/app-config.js';
import { loadConfigFromProcess } from '../config/environment.js';
import { EmbeddedDatabase } from '../database/embedded-postgres.js';
import { runOneSweep } from '../revalidation/run-once.js';

/**
 * `npm run revalidate`: one re-verification sweep of every connected org against the configured
 * database, then exit 0 whatever the outcomes. The JSON summary goes to stdout, logs to stderr.
 */
async function main(): Promise<void> {
  const config = loadConfigFromProcess();
  const embedded = config.databaseUrl
    ? undefined
    : new EmbeddedDatabase({ dataDir: join(config.dataDir, 'postgres') });
  const url = config.databaseUrl ?? (await embedded!.start());
  try {
    const summary = await runOneSweep(config, url, pino.destination(2));
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } finally {
    await embedded?.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(1);
  },
);
