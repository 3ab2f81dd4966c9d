import { getMetadataArgsStorage } from 'typeorm';

/**
 * An entity's columns as its decorators declare them (every column of ours names its database
 * column), for the repositories that write plain SQL: one column list per table, and rows mapped
 * back into the entity from it — never a second hand-written copy of the table.
 */
export class EntityColumns<E extends object> {
  /** Property → column, in declaration order. */
  readonly columns: readonly { property: keyof E & string; column: string }[];
  /** Every column, named (a prepared statement never answers `*`: see PreparedStatement). */
  readonly list: string;
  private readonly byProperty: Map<string, string>;

  constructor(private readonly entity: new () => E) {
    this.columns = getMetadataArgsStorage()
      .filterColumns(entity)
      .map((args) => {
        if (typeof args.options.name !== 'string') {
          throw new Error(`${entity.name}.${args.propertyName} must name its column`);
        }
        return { property: args.propertyName as keyof E & string, column: args.options.name };
      });
    this.list = this.columns.map((c) => c.column).join(', ');
    this.byProperty = new Map(this.columns.map((c) => [c.property, c.column]));
  }

  /** The database column of a property. */
  column(property: keyof E & string): string {
    const column = this.byProperty.get(property);
    if (!column) throw new Error(`${this.entity.name} has no column for ${property}`);
    return column;
  }

  /** A row as PostgreSQL answered it (column names), as the entity. */
  toEntity(row: Record<string, unknown>): E {
    const entity = new this.entity();
    for (const { property, column } of this.columns) {
      (entity as Record<string, unknown>)[property] = row[column];
    }
    return entity;
  }
}
