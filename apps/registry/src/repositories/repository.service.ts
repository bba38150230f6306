import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/**
 * Repositories by name. Ids are cached in memory: a repository row is never renamed and
 * its id is never reused, so a cached id is always right while the row exists.
 */
@Injectable()
export class RepositoryService {
  private readonly ids = new Map<string, string>();

  constructor(private readonly db: DataSource) {}

  async findId(
    name: string,
    manager: EntityManager = this.db.manager,
  ): Promise<string | undefined> {
    const cached = this.ids.get(name);
    if (cached !== undefined) return cached;
    const rows: { id: string }[] = await manager.query(
      'SELECT id FROM repositories WHERE name = $1',
      [name],
    );
    const id = rows[0]?.id;
    if (id !== undefined) this.remember(name, id);
    return id;
  }

  /** The repository's id, creating the repository on first use. */
  async ensure(name: string, manager: EntityManager = this.db.manager): Promise<string> {
    const known = await this.findId(name, manager);
    if (known !== undefined) return known;
    // A concurrent creator may commit between our snapshot and the insert: the statement then
    // sees neither row, and the next statement (new snapshot, READ COMMITTED) does.
    for (let attempt = 0; attempt < 3; attempt++) {
      const rows: { id: string }[] = await manager.query(
        `WITH inserted AS (
           INSERT INTO repositories (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id
         )
         SELECT id FROM inserted UNION ALL SELECT id FROM repositories WHERE name = $1 LIMIT 1`,
        [name],
      );
      const id = rows[0]?.id;
      // Not cached here: the surrounding transaction may still roll back.
      if (id !== undefined) return id;
    }
    throw new Error(`could not create repository ${name}`);
  }

  private remember(name: string, id: string): void {
    if (this.ids.size > 100_000) this.ids.clear();
    this.ids.set(name, id);
  }
}
