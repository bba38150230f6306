import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { OciError, OciErrorCode } from '@berth/oci';
import { RepositoryPattern } from '../auth/repository-pattern';
import { TagPattern } from './tag-pattern';
import { badRequest } from '../admin/admin-errors';

export interface ImmutabilityRule {
  /** Repository glob (`*`, `**`, `?`), as in the access matrix. */
  repositories: string;
  /** Tag glob (`*`, `?`). */
  tags: string;
}

interface CompiledRule {
  rule: ImmutabilityRule;
  repositories: RepositoryPattern;
  tags: TagPattern;
}

const CACHE_MS = 2000;

/**
 * Immutable tags: once a tag matching a rule exists it cannot be moved to another manifest or
 * deleted (and neither can the manifest it names). Re-pushing the identical manifest to it is
 * allowed, so CI retries stay idempotent. Retention never selects such tags.
 */
@Injectable()
export class ImmutabilityService {
  private cache?: { at: number; rules: CompiledRule[] };

  constructor(private readonly db: DataSource) {}

  async isImmutable(repository: string, tag: string, manager?: EntityManager): Promise<boolean> {
    return (await this.tagTest(repository, manager))(tag);
  }

  /**
   * Whether a tag of `repository` is immutable, from one look at the rules: synchronous per
   * tag, for callers that ask about many tags (retention over 100,000 of them).
   */
  async tagTest(repository: string, manager?: EntityManager): Promise<(tag: string) => boolean> {
    const rules = (await this.rules(manager)).filter((r) => r.repositories.matches(repository));
    if (rules.length === 0) return () => false;
    return (tag) => rules.some((r) => r.tags.matches(tag));
  }

  /** Throws DENIED when `tag` is immutable and would move away from `digest`. */
  async assertCanMove(
    manager: EntityManager,
    repositoryId: string,
    repository: string,
    tag: string,
    digest: string,
  ): Promise<void> {
    if (!(await this.isImmutable(repository, tag, manager))) return;
    const rows: { digest: string }[] = await manager.query(
      `SELECT m.digest FROM tags t JOIN manifests m ON m.id = t.manifest_id
        WHERE t.repository_id = $1 AND t.name = $2 FOR UPDATE OF t`,
      [repositoryId, tag],
    );
    const current = rows[0]?.digest;
    if (current !== undefined && current !== digest) {
      throw new OciError(
        OciErrorCode.DENIED,
        `tag ${tag} of ${repository} is immutable (it names ${current})`,
      );
    }
  }

  /** Throws DENIED when any of `tags` is immutable. */
  async assertCanDelete(
    repository: string,
    tags: string[],
    manager?: EntityManager,
  ): Promise<void> {
    const isImmutable = await this.tagTest(repository, manager);
    for (const tag of tags) {
      if (isImmutable(tag)) {
        throw new OciError(
          OciErrorCode.DENIED,
          `tag ${tag} of ${repository} is immutable and cannot be deleted`,
        );
      }
    }
  }

  async list(): Promise<ImmutabilityRule[]> {
    return (await this.rules()).map((r) => r.rule);
  }

  async replace(rules: ImmutabilityRule[]): Promise<ImmutabilityRule[]> {
    for (const r of rules) {
      if (!RepositoryPattern.isValid(r.repositories) || !TagPattern.isValid(r.tags)) {
        throw badRequest(`invalid rule ${JSON.stringify(r)}`);
      }
    }
    await this.db.transaction(async (m) => {
      await m.query('DELETE FROM immutable_tag_rules');
      for (const r of rules) {
        await m.query(
          `INSERT INTO immutable_tag_rules (id, repository_pattern, tag_pattern) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING`,
          [randomUUID(), r.repositories, r.tags],
        );
      }
    });
    this.cache = undefined;
    return this.list();
  }

  private async rules(manager: EntityManager = this.db.manager): Promise<CompiledRule[]> {
    if (this.cache && Date.now() - this.cache.at < CACHE_MS) return this.cache.rules;
    const rows: { repository_pattern: string; tag_pattern: string }[] = await manager.query(
      'SELECT repository_pattern, tag_pattern FROM immutable_tag_rules ORDER BY repository_pattern, tag_pattern',
    );
    const rules = rows.map((r) => ({
      rule: { repositories: r.repository_pattern, tags: r.tag_pattern },
      repositories: new RepositoryPattern(r.repository_pattern),
      tags: new TagPattern(r.tag_pattern),
    }));
    this.cache = { at: Date.now(), rules };
    return rules;
  }
}
