import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { OciError, OciErrorCode } from '@berth/oci';
import { REGISTRY_CONFIG } from '../config/config.tokens';
import type { RegistryConfig } from '../config/registry-config';
import { RepositoryService } from '../repositories/repository.service';

export interface Page {
  items: string[];
  /** The last item of this page when another page follows. */
  next?: string;
  /** The page size to put in the `Link` to the next page. */
  n: number;
}

export interface PageRequest {
  n?: number;
  last?: string;
}

/**
 * Tag and repository listings in lexical (byte) order with `n`/`last` pagination, answered
 * by one indexed range query each (the `C` collation makes the order plain byte order).
 *
 * Each query aggregates its page into one `json` value: a page of 1,000 names as 1,000 result
 * rows cost ~3 ms of protocol parsing and garbage per request in `pg`, one row a small
 * fraction of that (docs/performance.md, finding 9).
 */
@Injectable()
export class ListingService {
  constructor(
    private readonly db: DataSource,
    private readonly repositories: RepositoryService,
    @Inject(REGISTRY_CONFIG) private readonly config: RegistryConfig,
  ) {}

  async tags(repository: string, page: PageRequest): Promise<Page> {
    const repositoryId = await this.repositories.findId(repository);
    if (repositoryId === undefined) {
      throw new OciError(OciErrorCode.NAME_UNKNOWN, `repository ${repository} is not known`);
    }
    const n = Math.min(page.n ?? this.config.listMaxPageSize, this.config.listMaxPageSize);
    if (n === 0) return { items: [], n };
    const names = await this.names(
      `SELECT name FROM tags WHERE repository_id = $1 AND ($2::text IS NULL OR name > $2)
        ORDER BY name LIMIT $3`,
      [repositoryId, page.last ?? null, n + 1],
    );
    return this.toPage(names, n);
  }

  /** Repositories the caller may pull (`visible`), a page at a time. */
  async catalog(page: PageRequest, visible: (name: string) => boolean = () => true): Promise<Page> {
    const n = Math.min(page.n ?? this.config.catalogDefaultPageSize, this.config.listMaxPageSize);
    if (n === 0) return { items: [], n };
    const items: string[] = [];
    let last = page.last ?? null;
    // Hidden repositories are skipped: read on until the page is full or the list ends.
    for (;;) {
      const names = await this.names(
        `SELECT name FROM repositories WHERE ($1::text IS NULL OR name > $1) ORDER BY name LIMIT $2`,
        [last, n + 1],
      );
      for (const name of names) if (visible(name)) items.push(name);
      if (items.length > n || names.length <= n) break;
      last = names[names.length - 1] ?? null;
    }
    return this.toPage(items.slice(0, n + 1), n);
  }

  /** The `name` column of `pageQuery`'s rows, in byte order, fetched as one `json` array. */
  private async names(pageQuery: string, parameters: unknown[]): Promise<string[]> {
    const rows: { names: string[] | null }[] = await this.db.query(
      `SELECT json_agg(page.name) AS names FROM (${pageQuery}) page`,
      parameters,
    );
    const names = rows[0]?.names ?? [];
    // PostgreSQL aggregates a sorted subquery in its order in practice but does not promise
    // it; checking costs a pass over the page, sorting in the aggregate a sort per query.
    // Names are ASCII (tag and repository grammars), so code-unit order is byte order.
    for (let i = 1; i < names.length; i++) {
      if (names[i - 1] >= names[i]) return names.sort();
    }
    return names;
  }

  private toPage(items: string[], n: number): Page {
    if (items.length <= n) return { items, n };
    const pageItems = items.slice(0, n);
    return { items: pageItems, next: pageItems[pageItems.length - 1], n };
  }
}
