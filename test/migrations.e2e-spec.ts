import { readdirSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../migrations/index.js';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import { createTestDatabase, withClient } from './support/database.js';

async function tables(url: string): Promise<string[]> {
  return withClient(url, async (client) => {
    const result = await client.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    );
    return result.rows.map((r) => r.table_name);
  });
}

describe('migrations', () => {
  it('lists every migration file in migrations/index.ts', () => {
    const files = readdirSync(new URL('../migrations/', import.meta.url)).filter((f) =>
      /^\d+-.+\.ts$/.test(f),
    );
    expect(MIGRATIONS.map((m) => m.name).sort()).toEqual(
      files.map((f) => f.replace(/^(\d+)-(.+)\.ts$/, '$2$1')).sort(),
    );
  });

  it('run up and down cleanly against an empty database', async () => {
    const url = await createTestDatabase('migrations');
    const dataSource = new DataSource(dataSourceOptions(url));
    await dataSource.initialize();
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      expect(applied).toHaveLength(MIGRATIONS.length);
      expect(await dataSource.showMigrations()).toBe(false);
      for (let i = 0; i < applied.length; i++) await dataSource.undoLastMigration({ transaction: 'each' });
      expect(await tables(url)).toEqual(['schema_migrations']);
      // and up again: down migrations leave nothing behind that blocks a re-run
      expect(await dataSource.runMigrations({ transaction: 'each' })).toHaveLength(MIGRATIONS.length);
    } finally {
      await dataSource.destroy();
    }
  });
});
