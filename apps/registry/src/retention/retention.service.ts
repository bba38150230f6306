import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditAction, type AuditEventInput } from '../audit/audit-event';
import { AuditService } from '../audit/audit.service';
import type { Caller } from '../auth/auth.decorators';
import { RepositoryPattern, mostSpecific } from '../auth/repository-pattern';
import { ManifestService } from '../manifests/manifest.service';
import { ImmutabilityService } from '../immutability/immutability.service';
import { artifactTagsOf } from './artifact-tags';
import {
  RetentionEvaluator,
  type RetentionEvaluation,
  type RetentionTag,
} from './retention-evaluator';
import {
  parseRetentionPolicies,
  parseRetentionPolicy,
  policyRules,
  type RetentionPolicy,
} from './retention-policy';
import { badRequest } from '../admin/admin-errors';

/** One tag a retention run deletes (or, in a dry run, would delete), and why. */
export interface RetentionPlanEntry {
  repository: string;
  tag: string;
  /** The manifest the tag named when it was evaluated. */
  digest: string;
  /** When the tag was pushed (`tags.updated_at`), ISO 8601 UTC with microseconds. */
  pushedAt: string;
  /** The rule that decided it (see `RetentionEvaluator`), or `subject_deleted` (see `apply`). */
  rule: string;
  /** For `subject_deleted`: the deleted manifest the tag went with. */
  subject?: string;
}

/** A planned deletion that `apply` did not carry out. */
export interface RetentionSkip extends RetentionPlanEntry {
  /**
   * `changed`: since planning the tag was deleted, moved to another manifest or pushed again
   * (its repository may be gone); `immutable`: an immutability rule now protects it.
   */
  skipped: 'changed' | 'immutable';
}

export interface RetentionApplyResult {
  /** The tags deleted: those of the plan, then the artifact tags that went with their subject. */
  deleted: RetentionPlanEntry[];
  skipped: RetentionSkip[];
  /** How many manifests were deleted (their blobs are left to garbage collection). */
  manifestsDeleted: number;
}

export type RetentionRunResult =
  | { dryRun: true; plan: RetentionPlanEntry[] }
  | ({ dryRun: false; plan: RetentionPlanEntry[] } & RetentionApplyResult);

export interface RetentionPlanOptions {
  /** Only repositories matching this repository glob (default: all). */
  repositories?: string;
  /** The evaluation time (default: now). */
  now?: Date;
}

/** The evaluation of one repository. */
export interface RepositoryEvaluation extends RetentionEvaluation {
  repository: string;
  /** The policy that governs the repository; null (and nothing evaluated) when none matches. */
  policy: RetentionPolicy | null;
  /** Tags left out of the evaluation: signature, attestation and SBOM tags and attached artifacts. */
  attachedTags: number;
}

interface CompiledPolicy {
  policy: RetentionPolicy;
  pattern: RepositoryPattern;
}

interface TagRow {
  name: string;
  digest: string;
  pushed_at: string;
  attached: boolean;
}

/** A manifest the deletion cascade considers, and why. */
interface Candidate {
  id: string;
  /** `untagged` (named by a deleted tag), `subject_deleted`, `parent_deleted`. */
  rule: string;
  /** The deleted subject or parent digest that made it a candidate. */
  cause?: string;
}

interface CascadeResult {
  tags: RetentionPlanEntry[];
  manifests: { digest: string; rule: string; cause?: string }[];
}

/** Tags per DELETE statement. */
const DELETE_BATCH = 1000;
/** Audit inserts in flight at once (the pool has 10 to 20 connections). */
const AUDIT_CONCURRENCY = 8;
const PUSHED_AT_SQL = `to_char(t.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * Retention: deletes the tags that the retention policies no longer keep, and with them the
 * manifests they leave unreferenced and the signatures, attestations and SBOMs of those.
 *
 * Policies (`retention_policies`) are replaced as a whole through the admin API; a
 * repository is governed by the most specific policy whose repository glob matches it, and a
 * repository that no policy matches is never touched. `RetentionEvaluator` decides per tag;
 * this service loads the data, plans and applies.
 *
 * Cost: planning reads the repository list (one query), then per governed repository all its
 * tags with their push time and manifest digest in one indexed query (the `tags` primary key),
 * and evaluates them in memory in O(n log n). Applying deletes tags in statements of 1000.
 */
@Injectable()
export class RetentionService {
  private readonly logger = new Logger('Retention');
  private readonly evaluator = new RetentionEvaluator();

  constructor(
    private readonly db: DataSource,
    private readonly immutability: ImmutabilityService,
    private readonly audit: AuditService,
    private readonly manifests: ManifestService,
  ) {}

  /** The policies, ordered by repository glob. */
  async listPolicies(manager: EntityManager = this.db.manager): Promise<RetentionPolicy[]> {
    const rows: { repository_pattern: string; rules: Record<string, unknown> }[] =
      await manager.query(
        'SELECT repository_pattern, rules FROM retention_policies ORDER BY repository_pattern',
      );
    return rows.map((row, index) => {
      try {
        return parseRetentionPolicy({ ...row.rules, repositories: row.repository_pattern }, index);
      } catch (err) {
        throw new Error(
          `stored retention policy ${row.repository_pattern} is invalid: ${String(err)}`,
        );
      }
    });
  }

  /**
   * Replaces all policies (validated again here, whoever the caller) and records a
   * `policy.change` audit event with the policies before and after.
   */
  async replacePolicies(policies: RetentionPolicy[], caller: Caller): Promise<RetentionPolicy[]> {
    const next = parseRetentionPolicies({ policies });
    const before = await this.db.transaction(async (m) => {
      // Concurrent replacements apply one after the other; readers are not blocked.
      await m.query('LOCK TABLE retention_policies IN SHARE ROW EXCLUSIVE MODE');
      const previous = await this.listPolicies(m);
      await m.query('DELETE FROM retention_policies WHERE repository_pattern <> ALL($1::text[])', [
        next.map((p) => p.repositories),
      ]);
      for (const policy of next) {
        await m.query(
          `INSERT INTO retention_policies (id, repository_pattern, rules) VALUES ($1, $2, $3::jsonb)
           ON CONFLICT (repository_pattern) DO UPDATE SET rules = EXCLUDED.rules,
             updated_at = CASE WHEN retention_policies.rules = EXCLUDED.rules
                               THEN retention_policies.updated_at ELSE now() END`,
          [randomUUID(), policy.repositories, JSON.stringify(policyRules(policy))],
        );
      }
      return previous;
    });
    await this.audit.record({
      action: AuditAction.PolicyChange,
      result: 'success',
      caller,
      detail: { policy: 'retention', before, after: next },
    });
    return next;
  }

  /**
   * Evaluates one repository against its policy at `now`: one query for the policies, one for
   * all the repository's tags (none when no policy governs it).
   */
  async evaluateRepository(
    repositoryId: string,
    name: string,
    now: Date = new Date(),
  ): Promise<RepositoryEvaluation> {
    const governing = mostSpecific(await this.compiledPolicies(), name);
    if (!governing)
      return { repository: name, policy: null, delete: [], keep: [], attachedTags: 0 };
    return (await this.evaluate(governing.policy, repositoryId, name, now)).evaluation;
  }

  /**
   * What a run would delete now: every governed repository (matching `repositories`, when
   * given) is evaluated; the result lists the tags to delete, by repository name and then most
   * recent first, each with the rule that decided it.
   */
  async plan(options: RetentionPlanOptions = {}): Promise<RetentionPlanEntry[]> {
    const filter = compileFilter(options.repositories);
    const now = options.now ?? new Date();
    const policies = await this.compiledPolicies();
    if (policies.length === 0) return [];
    const repositories: { id: string; name: string }[] = await this.db.query(
      'SELECT id::text AS id, name FROM repositories ORDER BY name',
    );
    const plan: RetentionPlanEntry[] = [];
    for (const { id, name } of repositories) {
      if (filter && !filter.matches(name)) continue;
      const governing = mostSpecific(policies, name);
      if (!governing) continue;
      const { evaluation, pushedAt } = await this.evaluate(governing.policy, id, name, now);
      for (const d of evaluation.delete) {
        plan.push({
          repository: name,
          tag: d.tag,
          digest: d.digest,
          pushedAt: pushedAt.get(d.tag) ?? d.pushedAt.toISOString(),
          rule: d.rule,
        });
      }
    }
    return plan;
  }

  /**
   * Carries out a plan.
   *
   * 1. Tags, per repository in statements of 1000 (`DELETE FROM tags ... USING unnest(names,
   *    digests, push times)`, through the `tags` primary key). A tag is deleted only if it still
   *    names the planned manifest and was not pushed again since planning (the same statement
   *    re-checks manifest digest and push time, so a concurrent push wins) and no immutability
   *    rule protects it now (`ImmutabilityService.isImmutable`, asked just before). The others
   *    are reported as skipped. Each deleted tag gets a `retention.delete` audit event
   *    (reference: the tag; detail: `rule`, `digest`), written after its statement commits.
   * 2. Manifests, in one transaction per statement of step 1: a manifest named by a deleted
   *    tag is deleted when no tag names it any more, no other manifest of the repository lists
   *    it as a child (index entry) and it is not attached (`subject`) to a manifest that still
   *    exists. Then, repeatedly, for each deleted manifest:
   *    - its referrers (manifests whose `subject` is its digest) are deleted, tagged or not,
   *      unless an immutable tag names them or another manifest lists them as a child;
   *    - its artifact tags (`sha256-<hex>.sig`, `.att`, `.sbom` of its digest) are deleted
   *      unless immutable, and the manifests they named are deleted under the conditions of a
   *      manifest named by a deleted tag;
   *    - the child manifests of a deleted index are deleted under those same conditions,
   *    until nothing more goes. So signatures, attestations and SBOMs go with their subject,
   *    and never before. Each deleted manifest gets a `retention.delete` audit event
   *    (reference: its digest; detail: `rule` = `untagged`, `subject_deleted` or
   *    `parent_deleted`, and the `subject`/`parent` digest), and each tag that goes with it one
   *    with rule `subject_deleted` (detail: `subject`). Candidate manifests are locked (FOR
   *    UPDATE) before they are checked, so a concurrent push that tags one, or an index push
   *    that lists one, either commits first (and the manifest stays) or waits for the deletion
   *    and then fails (the client's retry pushes the manifest again). On a deadlock with such
   *    a push the transaction is retried (3 attempts).
   *
   * Blobs are not touched: garbage collection reclaims those no manifest references. A crash
   * between the two steps leaves untagged manifests, also for garbage collection.
   */
  async apply(plan: readonly RetentionPlanEntry[], caller: Caller): Promise<RetentionApplyResult> {
    const result: RetentionApplyResult = { deleted: [], skipped: [], manifestsDeleted: 0 };
    const cascaded: RetentionPlanEntry[] = [];
    const byRepository = new Map<string, RetentionPlanEntry[]>();
    for (const entry of plan) {
      const list = byRepository.get(entry.repository) ?? [];
      list.push(entry);
      byRepository.set(entry.repository, list);
    }
    if (byRepository.size === 0) return result;
    const rows: { id: string; name: string }[] = await this.db.query(
      'SELECT id::text AS id, name FROM repositories WHERE name = ANY($1::text[])',
      [[...byRepository.keys()]],
    );
    const ids = new Map(rows.map((r) => [r.name, r.id]));
    for (const [repository, entries] of byRepository) {
      const repositoryId = ids.get(repository);
      if (repositoryId === undefined) {
        result.skipped.push(...entries.map((e) => skip(e, 'changed')));
        continue;
      }
      const deletable: RetentionPlanEntry[] = [];
      for (const entry of entries) {
        if (await this.immutability.isImmutable(repository, entry.tag)) {
          result.skipped.push(skip(entry, 'immutable'));
        } else {
          deletable.push(entry);
        }
      }
      for (let i = 0; i < deletable.length; i += DELETE_BATCH) {
        const batch = deletable.slice(i, i + DELETE_BATCH);
        const gone = await this.deleteTags(repositoryId, batch);
        const deleted = batch.filter((e) => gone.has(e.tag));
        result.skipped.push(
          ...batch.filter((e) => !gone.has(e.tag)).map((e) => skip(e, 'changed')),
        );
        result.deleted.push(...deleted);
        await this.recordAll(
          deleted.map((e) => ({
            action: AuditAction.RetentionDelete,
            result: 'success',
            caller,
            repository,
            reference: e.tag,
            detail: { rule: e.rule, digest: e.digest },
          })),
        );
        const cascade = await this.deleteManifests(repositoryId, repository, [...gone.values()]);
        cascaded.push(...cascade.tags);
        result.manifestsDeleted += cascade.manifests.length;
        await this.recordAll([
          ...cascade.tags.map((e): AuditEventInput => ({
            action: AuditAction.RetentionDelete,
            result: 'success',
            caller,
            repository,
            reference: e.tag,
            detail: { rule: e.rule, digest: e.digest, subject: e.subject },
          })),
          ...cascade.manifests.map((mf): AuditEventInput => ({
            action: AuditAction.RetentionDelete,
            result: 'success',
            caller,
            repository,
            reference: mf.digest,
            detail: {
              rule: mf.rule,
              digest: mf.digest,
              ...(mf.cause === undefined
                ? {}
                : mf.rule === 'parent_deleted'
                  ? { parent: mf.cause }
                  : { subject: mf.cause }),
            },
          })),
        ]);
      }
    }
    result.deleted.push(...cascaded);
    this.manifests.invalidateCache();
    return result;
  }

  /**
   * Plans and, unless `dryRun`, applies (for the admin API and for queued jobs). A real run is
   * logged with its counts.
   */
  async run(
    caller: Caller,
    dryRun: true,
    options?: RetentionPlanOptions,
  ): Promise<Extract<RetentionRunResult, { dryRun: true }>>;
  async run(
    caller: Caller,
    dryRun: false,
    options?: RetentionPlanOptions,
  ): Promise<Extract<RetentionRunResult, { dryRun: false }>>;
  async run(
    caller: Caller,
    dryRun: boolean,
    options?: RetentionPlanOptions,
  ): Promise<RetentionRunResult>;
  async run(
    caller: Caller,
    dryRun: boolean,
    options: RetentionPlanOptions = {},
  ): Promise<RetentionRunResult> {
    const started = Date.now();
    const plan = await this.plan(options);
    if (dryRun) return { dryRun: true, plan };
    const applied = await this.apply(plan, caller);
    this.logger.log(
      `retention by ${caller.name} deleted ${applied.deleted.length} tags and ` +
        `${applied.manifestsDeleted} manifests, skipped ${applied.skipped.length}, ` +
        `in ${Date.now() - started} ms`,
    );
    return { dryRun: false, plan, ...applied };
  }

  private async compiledPolicies(): Promise<CompiledPolicy[]> {
    return (await this.listPolicies()).map((policy) => ({
      policy,
      pattern: new RepositoryPattern(policy.repositories),
    }));
  }

  /** All tags of the repository in one query, evaluated against `policy`. */
  private async evaluate(
    policy: RetentionPolicy,
    repositoryId: string,
    repository: string,
    now: Date,
  ): Promise<{ evaluation: RepositoryEvaluation; pushedAt: Map<string, string> }> {
    // `attached`: the manifest is a referrer of a manifest that exists in the repository.
    const rows: TagRow[] = await this.db.query(
      `SELECT t.name, m.digest, ${PUSHED_AT_SQL} AS pushed_at,
              (m.subject_digest IS NOT NULL AND EXISTS (
                 SELECT 1 FROM manifests s
                  WHERE s.repository_id = m.repository_id AND s.digest = m.subject_digest
              )) AS attached
         FROM tags t JOIN manifests m ON m.id = t.manifest_id
        WHERE t.repository_id = $1`,
      [repositoryId],
    );
    const tags: RetentionTag[] = new Array<RetentionTag>(rows.length);
    const pushedAt = new Map<string, string>();
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      tags[i] = {
        name: row.name,
        pushedAt: new Date(row.pushed_at),
        manifestDigest: row.digest,
        attached: row.attached,
      };
      pushedAt.set(row.name, row.pushed_at);
    }
    // One snapshot of the rules: `apply` asks `isImmutable` again just before deleting.
    const isImmutable = await this.immutability.tagTest(repository);
    const evaluation = this.evaluator.evaluate(policy, tags, now, isImmutable);
    return {
      evaluation: {
        repository,
        policy,
        ...evaluation,
        attachedTags: tags.length - evaluation.delete.length - evaluation.keep.length,
      },
      pushedAt,
    };
  }

  /**
   * Deletes the planned tags that still name the planned manifest with the planned push time;
   * returns the deleted tag names with the id of the manifest each named.
   */
  private async deleteTags(
    repositoryId: string,
    batch: readonly RetentionPlanEntry[],
  ): Promise<Map<string, string>> {
    const result: [{ name: string; manifest_id: string }[], number] = await this.db.query(
      `DELETE FROM tags t
        USING manifests m,
              unnest($2::text[], $3::text[], $4::timestamptz[]) AS p(name, digest, pushed_at)
        WHERE t.repository_id = $1 AND t.name = p.name AND t.updated_at = p.pushed_at
          AND m.id = t.manifest_id AND m.digest = p.digest
        RETURNING t.name, t.manifest_id::text AS manifest_id`,
      [
        repositoryId,
        batch.map((e) => e.tag),
        batch.map((e) => e.digest),
        batch.map((e) => e.pushedAt),
      ],
    );
    return new Map(result[0].map((r) => [r.name, r.manifest_id]));
  }

  /** Step 2 of `apply`, retried on deadlock (a concurrent push locking in another order). */
  private async deleteManifests(
    repositoryId: string,
    repository: string,
    manifestIds: string[],
  ): Promise<CascadeResult> {
    const named = [...new Set(manifestIds)].map((id): Candidate => ({ id, rule: 'untagged' }));
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction((m) => this.cascade(m, repositoryId, repository, named));
      } catch (err) {
        const code = (err as { driverError?: { code?: string }; code?: string }).code;
        if (attempt >= 3 || (code !== '40P01' && code !== '40001')) throw err;
      }
    }
  }

  private async cascade(
    m: EntityManager,
    repositoryId: string,
    repository: string,
    initial: Candidate[],
  ): Promise<CascadeResult> {
    const result: CascadeResult = { tags: [], manifests: [] };
    /** Deleted when untagged, not a child and not attached to a living subject. */
    let named = initial;
    /** Deleted unless an immutable tag names them or they are a child (their subject went). */
    let referrers: Candidate[] = [];
    while (named.length > 0 || referrers.length > 0) {
      const referrerIds = new Set(referrers.map((c) => c.id));
      named = named.filter((c) => !referrerIds.has(c.id));
      const candidates = new Map([...named, ...referrers].map((c) => [c.id, c]));
      await m.query(
        'SELECT id FROM manifests WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE',
        [[...candidates.keys()]],
      );
      const eligible: { id: string; digest: string }[] = await m.query(
        `SELECT mf.id::text AS id, mf.digest FROM manifests mf
          WHERE mf.repository_id = $1
            AND ((mf.id = ANY($2::bigint[])
                  AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.manifest_id = mf.id)
                  AND NOT (mf.subject_digest IS NOT NULL AND EXISTS (
                    SELECT 1 FROM manifests s
                     WHERE s.repository_id = $1 AND s.digest = mf.subject_digest)))
                 OR mf.id = ANY($3::bigint[]))
            AND NOT EXISTS (
              SELECT 1 FROM manifest_references r JOIN manifests p ON p.id = r.manifest_id
               WHERE r.digest = mf.digest AND r.kind = 'manifest' AND p.repository_id = $1)`,
        [repositoryId, named.map((c) => c.id), referrers.map((c) => c.id)],
      );
      // Tags that go with deleted referrers (ON DELETE CASCADE): none may be immutable.
      const tagRows: (TagRow & { manifest_id: string })[] = await m.query(
        `SELECT t.name, t.manifest_id::text AS manifest_id, mf.digest, ${PUSHED_AT_SQL} AS pushed_at
           FROM tags t JOIN manifests mf ON mf.id = t.manifest_id
          WHERE t.manifest_id = ANY($1::bigint[])`,
        [eligible.map((e) => e.id)],
      );
      const held = new Set<string>();
      for (const row of tagRows) {
        if (await this.immutability.isImmutable(repository, row.name)) held.add(row.manifest_id);
      }
      const doomed = eligible.filter((e) => !held.has(e.id));
      if (doomed.length === 0) break;
      const doomedIds = doomed.map((e) => e.id);
      // Children first: their references go with the parent.
      const children: { id: string; parent: string }[] = await m.query(
        `SELECT DISTINCT ON (c.id) c.id::text AS id, p.digest AS parent
           FROM manifest_references r
           JOIN manifests p ON p.id = r.manifest_id
           JOIN manifests c ON c.repository_id = $1 AND c.digest = r.digest
          WHERE r.manifest_id = ANY($2::bigint[]) AND r.kind = 'manifest'
          ORDER BY c.id, p.digest`,
        [repositoryId, doomedIds],
      );
      await m.query('DELETE FROM manifests WHERE id = ANY($1::bigint[])', [doomedIds]);
      const doomedSet = new Set(doomedIds);
      for (const row of tagRows) {
        if (!doomedSet.has(row.manifest_id)) continue;
        const subject = candidates.get(row.manifest_id)?.cause;
        result.tags.push({
          repository,
          tag: row.name,
          digest: row.digest,
          pushedAt: row.pushed_at,
          rule: 'subject_deleted',
          ...(subject === undefined ? {} : { subject }),
        });
      }
      for (const e of doomed) {
        const candidate = candidates.get(e.id);
        result.manifests.push({
          digest: e.digest,
          rule: candidate?.rule ?? 'untagged',
          ...(candidate?.cause === undefined ? {} : { cause: candidate.cause }),
        });
      }

      const digests = doomed.map((e) => e.digest);
      const nextReferrers: { id: string; subject: string }[] = await m.query(
        `SELECT id::text AS id, subject_digest AS subject FROM manifests
          WHERE repository_id = $1 AND subject_digest = ANY($2::text[])`,
        [repositoryId, digests],
      );
      const artifactTags: (TagRow & { manifest_id: string })[] = await m.query(
        `SELECT t.name, t.manifest_id::text AS manifest_id, mf.digest, ${PUSHED_AT_SQL} AS pushed_at
           FROM tags t JOIN manifests mf ON mf.id = t.manifest_id
          WHERE t.repository_id = $1 AND t.name = ANY($2::text[])`,
        [repositoryId, digests.flatMap(artifactTagsOf)],
      );
      const goneArtifactTags: (TagRow & { manifest_id: string })[] = [];
      for (const row of artifactTags) {
        if (!(await this.immutability.isImmutable(repository, row.name))) {
          goneArtifactTags.push(row);
        }
      }
      if (goneArtifactTags.length > 0) {
        await m.query('DELETE FROM tags WHERE repository_id = $1 AND name = ANY($2::text[])', [
          repositoryId,
          goneArtifactTags.map((t) => t.name),
        ]);
      }
      const subjectOf = new Map(digests.flatMap((d) => artifactTagsOf(d).map((t) => [t, d])));
      for (const row of goneArtifactTags) {
        result.tags.push({
          repository,
          tag: row.name,
          digest: row.digest,
          pushedAt: row.pushed_at,
          rule: 'subject_deleted',
          subject: subjectOf.get(row.name),
        });
      }
      referrers = nextReferrers.map((r) => ({
        id: r.id,
        rule: 'subject_deleted',
        cause: r.subject,
      }));
      named = [
        ...children.map((c): Candidate => ({ id: c.id, rule: 'parent_deleted', cause: c.parent })),
        ...goneArtifactTags.map((t): Candidate => ({
          id: t.manifest_id,
          rule: 'subject_deleted',
          cause: subjectOf.get(t.name),
        })),
      ];
    }
    return result;
  }

  /** Records the events, a few at a time. */
  private async recordAll(events: AuditEventInput[]): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < events.length) {
        const event = events[next++];
        await this.audit.record(event);
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(AUDIT_CONCURRENCY, events.length) }, () => worker()),
    );
  }
}

function skip(entry: RetentionPlanEntry, skipped: RetentionSkip['skipped']): RetentionSkip {
  return { ...entry, skipped };
}

/** The repository glob filter of a plan; a 400 when invalid. */
function compileFilter(glob: string | undefined): RepositoryPattern | undefined {
  if (glob === undefined) return undefined;
  if (!RepositoryPattern.isValid(glob)) {
    throw badRequest(`"repositories" must be a repository glob such as "**" or "team-a/*"`);
  }
  return new RepositoryPattern(glob);
}
