import { rmSync } from 'node:fs';

export default async function globalTeardown() {
  await globalThis.__testPostgres?.stop();
  if (process.env.TEST_PG_DATA_DIR) rmSync(process.env.TEST_PG_DATA_DIR, { recursive: true, force: true });
}
