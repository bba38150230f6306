import { TagPattern } from '../immutability/tag-pattern';
import { isArtifactTag } from './artifact-tags';
import type { RetentionPolicy } from './retention-policy';

/** One tag of a repository as retention sees it. */
export interface RetentionTag {
  name: string;
  /** When the tag was last pushed (`tags.updated_at`: set on creation and on every re-push). */
  pushedAt: Date;
  /** The digest of the manifest the tag names. */
  manifestDigest: string;
  /**
   * The tag names a manifest whose `subject` is a manifest of the repository (a signature,
   * attestation or SBOM attached through the referrers API). Such tags are not evaluated.
   */
  attached?: boolean;
}

/**
 * Why a tag is kept or deleted. Kept: `immutable`, `keep_patterns:<glob>`, `keep_last_n`,
 * `keep_days`, `keep_min`, `no_rule`. Deleted: `delete_after_days:<glob>:<days>`,
 * `not_kept:keep_last_n`, `not_kept:keep_days`, `not_kept:keep_last_n/keep_days`.
 */
export type RetentionRule = string;

export interface RetentionDecision {
  tag: string;
  digest: string;
  pushedAt: Date;
  rule: RetentionRule;
}

export interface RetentionEvaluation {
  /** The tags to delete, most recent first. */
  delete: RetentionDecision[];
  /** The counted tags that stay, most recent first. */
  keep: RetentionDecision[];
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The retention rules of one policy applied to the tags of one repository. Pure: no I/O, no
 * clock (the caller passes `now`), O(n log n) in the number of tags (one sort, then one pass
 * with a constant number of glob tests per tag).
 *
 * 1. Not counted. Signature, attestation and SBOM tags (`sha256-<64 hex>.sig|.att|.sbom`,
 *    `sha512-<128 hex>.…`, see artifact-tags.ts) and tags marked `attached` (they name a
 *    manifest whose subject is in the repository) are left out entirely: they appear in neither
 *    list, count towards no rule (not `keepLastN`, not `keepMin`) and are never deleted by the
 *    evaluation. They go when their subject is deleted (`RetentionService.apply`).
 * 2. Order. The other tags are ranked most recent first: by `pushedAt` descending, ties broken
 *    by name ascending (by UTF-16 code unit, which for tag characters is the byte order of
 *    COLLATE "C"). Rank 0 is the most recent tag. The ranking counts every counted tag,
 *    including those kept for another reason (immutable, keepPatterns).
 * 3. Keep. A tag is KEPT when any keep reason holds; the reported reason is the first that holds
 *    in this order (see the precedence below for `deleteAfterDays`):
 *    - `immutable`: `isImmutable(tag)` (an immutability rule protects it);
 *    - `keep_patterns:<glob>`: it matches a glob of `keepPatterns` (the first in policy order);
 *    - `keep_last_n`: `keepLastN` is set and the tag's rank is below it (it is one of the
 *      `keepLastN` most recent);
 *    - `keep_days`: `keepDays` is set and the tag was pushed within the last `keepDays` days:
 *      `now - pushedAt <= keepDays × 24 h` (inclusive; a push time after `now` counts as age 0).
 * 4. Delete. A tag no keep reason holds is DELETED
 *    - as `delete_after_days:<glob>:<days>` when a `deleteAfterDays` rule's glob matches it and
 *      it is older than that rule's days, `now - pushedAt > days × 24 h` (strictly; the first
 *      such rule in policy order is reported; every matching rule may decide, so of two
 *      matching rules the one with fewer days effectively applies);
 *    - otherwise, when the policy sets `keepLastN` or `keepDays` (retention by recency: every
 *      tag not kept goes), as `not_kept:<the recency rules the policy sets>`, i.e.
 *      `not_kept:keep_last_n`, `not_kept:keep_days` or `not_kept:keep_last_n/keep_days`.
 *    Otherwise it is kept as `no_rule`.
 *    Precedence: `immutable` and `keepPatterns` always keep; next, an expired `deleteAfterDays`
 *    rule deletes (an explicit expiry for a tag glob beats the generic recency rules, so a
 *    `pr-*` tag older than 7 days goes even if it is among the `keepLastN` most recent); then
 *    `keepLastN`/`keepDays` keep; with either set, every other tag is deleted. The `keepMin`
 *    floor (step 5) can still bring deletions back.
 * 5. Floor. When `keepMin` is set and fewer than `keepMin` counted tags would remain, the most
 *    recent deletion candidates (by the ranking of step 2) are kept instead, as `keep_min`,
 *    until `keepMin` remain (or nothing is deleted).
 *
 * A policy without `keepLastN`, `keepDays` and `deleteAfterDays` deletes nothing.
 */
export class RetentionEvaluator {
  evaluate(
    policy: RetentionPolicy,
    tags: readonly RetentionTag[],
    now: Date,
    isImmutable: (tag: string) => boolean,
  ): RetentionEvaluation {
    const nowMs = now.getTime();
    if (Number.isNaN(nowMs)) throw new RangeError('now is not a valid date');
    const keepPatterns = (policy.keepPatterns ?? []).map((p) => new TagPattern(p));
    const deleteRules = (policy.deleteAfterDays ?? []).map((r) => ({
      pattern: new TagPattern(r.tags),
      maxAgeMs: r.days * DAY_MS,
      rule: `delete_after_days:${r.tags}:${r.days}`,
    }));
    const keepLastN = policy.keepLastN;
    const keepDaysMs = policy.keepDays === undefined ? undefined : policy.keepDays * DAY_MS;
    const recency = [
      ...(keepLastN === undefined ? [] : ['keep_last_n']),
      ...(keepDaysMs === undefined ? [] : ['keep_days']),
    ];
    const notKept = recency.length > 0 ? `not_kept:${recency.join('/')}` : undefined;

    const ranked: { tag: RetentionTag; at: number }[] = [];
    for (const tag of tags) {
      if (tag.attached || isArtifactTag(tag.name)) continue;
      const at = tag.pushedAt.getTime();
      if (Number.isNaN(at)) throw new RangeError(`tag ${tag.name} has no valid push time`);
      ranked.push({ tag, at });
    }
    ranked.sort(
      (a, b) => b.at - a.at || (a.tag.name < b.tag.name ? -1 : a.tag.name > b.tag.name ? 1 : 0),
    );

    const rules: RetentionRule[] = new Array<RetentionRule>(ranked.length);
    const deleted: boolean[] = new Array<boolean>(ranked.length);
    let deletions = 0;
    for (let rank = 0; rank < ranked.length; rank++) {
      const { tag, at } = ranked[rank];
      const age = Math.max(0, nowMs - at);
      let rule: RetentionRule | undefined;
      let remove = false;
      const due = deleteRules.find((r) => age > r.maxAgeMs && r.pattern.matches(tag.name));
      if (isImmutable(tag.name)) {
        rule = 'immutable';
      } else {
        const pattern = keepPatterns.find((p) => p.matches(tag.name));
        if (pattern) rule = `keep_patterns:${pattern.pattern}`;
        else if (due) {
          // An explicit expiry for a tag glob beats the generic recency rules.
          rule = due.rule;
          remove = true;
        } else if (keepLastN !== undefined && rank < keepLastN) rule = 'keep_last_n';
        else if (keepDaysMs !== undefined && age <= keepDaysMs) rule = 'keep_days';
      }
      if (rule === undefined) {
        if (notKept !== undefined) {
          rule = notKept;
          remove = true;
        } else {
          rule = 'no_rule';
        }
      }
      rules[rank] = rule;
      deleted[rank] = remove;
      if (remove) deletions++;
    }

    // The floor: un-delete the most recent candidates until keepMin tags remain.
    let missing = (policy.keepMin ?? 0) - (ranked.length - deletions);
    for (let rank = 0; missing > 0 && rank < ranked.length; rank++) {
      if (!deleted[rank]) continue;
      deleted[rank] = false;
      rules[rank] = 'keep_min';
      missing--;
    }

    const result: RetentionEvaluation = { delete: [], keep: [] };
    for (let rank = 0; rank < ranked.length; rank++) {
      const { tag } = ranked[rank];
      const decision: RetentionDecision = {
        tag: tag.name,
        digest: tag.manifestDigest,
        pushedAt: tag.pushedAt,
        rule: rules[rank],
      };
      (deleted[rank] ? result.delete : result.keep).push(decision);
    }
    return result;
  }
}
