import { createHash } from 'node:crypto';
import type { PoolClient, QueryResultRow } from 'pg';
import { DataSource, type EntityManager } from 'typeorm';
import { poolOf } from './pool.js';

const BUILT = new Map<string, PreparedStatement>();

/**
 * A statement on a hot path (Test & Save, the audit chain's append, the nightly sweep, the status
 * read) that PostgreSQL parses and plans once per connection instead of on every call — a named
 * prepared statement. On the bench machine the audit chain's append statement takes 0.12 ms
 * prepared against 0.33 ms unnamed. TypeORM's `query()` sends unnamed statements only, so these
 * go to the pg client beneath it: the transaction's own connection inside a transaction, else the
 * DataSource's pool.
 *
 * The name is derived from the text, so one text always has one name (pg refuses a name reused for
 * another text) and statements built from a few fixed shapes are prepared once per shape.
 *
 * Name the columns a prepared statement returns (never `*`): its result type is fixed when a
 * connection first prepares it, so a column added by a later migration (another instance migrating
 * during a rolling deploy) would fail it on connections that prepared it before.
 *
 * Prepared statements need session-level connections — as LISTEN/NOTIFY already does: a direct
 * connection or a pooler in session mode, not a transaction-mode pooler.
 */
export class PreparedStatement {
  readonly name: string;

  constructor(readonly text: string) {
    this.name = `d365_${createHash('sha256').update(text).digest('base64url').slice(0, 24)}`;
  }

  /** For statements built at run time from a few fixed shapes: one instance per text. */
  static of(text: string): PreparedStatement {
    let statement = BUILT.get(text);
    if (!statement) BUILT.set(text, (statement = new PreparedStatement(text)));
    return statement;
  }

  /** The rows the statement answers (for INSERT, UPDATE and DELETE: those of RETURNING). */
  async rows<Row extends QueryResultRow>(
    source: DataSource | EntityManager,
    values: readonly unknown[],
  ): Promise<Row[]> {
    const config = { name: this.name, text: this.text, values: values as unknown[] };
    const runner = source instanceof DataSource ? undefined : source.queryRunner;
    if (runner?.isTransactionActive) {
      // Inside a transaction: its connection (TypeORM's connect() answers the one it holds).
      const client = (await runner.connect()) as PoolClient;
      return (await client.query<Row>(config)).rows;
    }
    const dataSource = source instanceof DataSource ? source : source.dataSource;
    return (await poolOf(dataSource).query<Row>(config)).rows;
  }
}
