import { createApp } from './app.factory.js';
import { ConfigError } from './config/app-config.js';
import { loadConfigFromProcess, publishServiceSettings } from './config/environment.js';
import { openDatabase } from './database/open-database.js';
import { AppLogger } from './logging/app-logger.js';

const SHUTDOWN_GRACE_MS = 25_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfigFromProcess();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }

  const database = await openDatabase(config, { shareRunning: false });
  // Embedded: the owner migrates, the service runs as the role that owns nothing.
  const appConfig = database.migrationUrl
    ? { ...config, databaseMigrationUrl: database.migrationUrl }
    : config;
  const app = await createApp({ config: appConfig, databaseUrl: database.url }).catch(
    async (error: unknown) => {
      await database.close();
      throw error;
    },
  );
  const logger = app.get(AppLogger);
  let unpublish = () => undefined as void;
  if (database.embedded) {
    logger.log(
      `Embedded PostgreSQL on 127.0.0.1:${database.embedded.port}, data in ${database.embedded.clusterDir}`,
      'Database',
    );
    unpublish = publishServiceSettings(config);
  }
  for (const name of config.generatedSecrets) {
    logger.warn(`${name} not set: using a development value generated in ${config.dataDir}`, 'Config');
  }
  if (config.nodeEnv === 'production' && config.dynamicsAllowedOrigins.length > 0) {
    logger.warn(
      `DYNAMICS_ALLOWED_ORIGINS accepts non-Microsoft environment URLs in production: ${config.dynamicsAllowedOrigins.join(', ')}`,
      'Config',
    );
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received: draining requests and shutting down`, 'Shutdown');
    const force = setTimeout(() => {
      logger.error('Shutdown took too long; exiting', 'Shutdown');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    try {
      await app.close(); // stops accepting, waits for in-flight requests, closes the pool
      unpublish();
      await database.close();
      process.exit(0);
    } catch (error) {
      logger.error(`Shutdown failed: ${String(error)}`, 'Shutdown');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  await app.listen({ port: config.port, host: config.host });
  logger.log(`Listening on ${await app.getUrl()} (docs at /docs)`, 'Bootstrap');
}

main().catch((error: unknown) => {
  console.error('Start-up failed:', error);
  process.exit(1);
});
