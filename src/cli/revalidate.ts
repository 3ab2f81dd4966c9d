import pino from 'pino';
import { loadCommandConfig } from '../config/environment.js';
import { openDatabase } from '../database/open-database.js';
import { runOneSweep } from '../revalidation/run-once.js';
import { runCli } from './run-cli.js';

/**
 * `npm run revalidate`: one re-verification sweep of every connected org against the configured
 * database, then exit 0 whatever the outcomes. The JSON summary goes to stdout, logs to stderr.
 * Beside a running service on the embedded database it uses that service's database and its
 * Microsoft settings.
 */
runCli(async () => {
  const { config, adopted } = loadCommandConfig();
  if (adopted.length > 0) console.error(`Using the running service's ${adopted.join(', ')}.`);
  const database = await openDatabase(config, { shareRunning: true });
  try {
    // An operator's command: as the tables' owner on the embedded database (it may have to migrate).
    const summary = await runOneSweep(config, database.migrationUrl ?? database.url, pino.destination(2));
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return 0;
  } finally {
    await database.close();
  }
});
