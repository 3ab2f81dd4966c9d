// The one way the service, its commands and the TypeORM CLI reach their database: DATABASE_URL,
// or the embedded PostgreSQL under DATA_DIR.
import type { AppConfig } from '../config/app-config.js';
import { EmbeddedDatabase } from './embedded-postgres.js';

export interface OpenDatabase {
  /** The role the service runs as. */
  url: string;
  /** The tables' owner, when the service is to run as another role (the embedded server's two roles). */
  migrationUrl?: string;
  /** Set when the database is the embedded server. */
  embedded?: { clusterDir: string; port: number; startedHere: boolean };
  /** Stops the embedded server when this process started it; otherwise nothing. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /**
   * Use the embedded server another process (the running service) already runs on this DATA_DIR
   * instead of refusing; the commands do, the service itself does not (it must own its server).
   */
  shareRunning: boolean;
  onLog?: (message: string) => void;
}

export async function openDatabase(config: AppConfig, options: OpenDatabaseOptions): Promise<OpenDatabase> {
  if (config.databaseUrl) return { url: config.databaseUrl, close: async () => undefined };
  const embedded = new EmbeddedDatabase({ dataDir: config.dataDir, onLog: options.onLog });
  if (options.shareRunning) {
    const running = await embedded.running();
    const url = running ? await embedded.urlOfRunning() : undefined;
    if (running && url) {
      return {
        url,
        embedded: { clusterDir: embedded.clusterDir, port: running.port, startedHere: false },
        close: async () => undefined,
      };
    }
  }
  const ownerUrl = await embedded.start();
  return {
    url: embedded.runtimeUrlFor(ownerUrl),
    migrationUrl: ownerUrl,
    embedded: { clusterDir: embedded.clusterDir, port: Number(new URL(ownerUrl).port), startedHere: true },
    close: () => embedded.stop(),
  };
}
