import { RepositoryPattern } from '../auth/repository-pattern';
import { TagPattern } from '../immutability/tag-pattern';
import { badRequest } from '../admin/admin-errors';

/** Tags matching `tags` (a tag glob) are deleted once they are older than `days` days. */
export interface DeleteAfterDaysRule {
  tags: string;
  days: number;
}

/**
 * A retention policy: which tags of the repositories matching `repositories` retention
 * deletes. Every field but `repositories` is optional; the semantics are those of
 * `RetentionEvaluator` (retention-evaluator.ts).
 *
 * - `repositories`: a repository glob as in the access matrix (`*` within one path component,
 *   `**` across components, `?` one character): `**` (the whole registry), `team-a/*`,
 *   `team-a/app`. A repository is governed by the MOST SPECIFIC policy whose glob matches it
 *   (`mostSpecific`: an exact name beats any glob; then more literal characters, fewer `**`,
 *   fewer `*`); the other matching policies do not apply to it at all. A repository that no
 *   policy matches is never touched. A policy without rules therefore exempts the repositories
 *   it governs from a broader one: `{ "repositories": "prod/**" }` next to `{ "repositories":
 *   "**", "keepLastN": 10 }` keeps everything under `prod/`.
 * - `keepLastN` (integer 1 to 1,000,000): keep the N most recently pushed tags.
 * - `keepDays` (integer 1 to 36,500): keep the tags pushed within the last N days.
 * - `deleteAfterDays` (up to 100 of `{ tags, days }`, days 1 to 36,500): delete the tags matching
 *   the tag glob `tags` once they are older than `days` days, e.g. `pr-*` after 7, `main-*` after
 *   30.
 * - `keepPatterns` (up to 100 tag globs): tags matching any of them are never deleted (`v*`,
 *   `latest`).
 * - `keepMin` (integer 0 to 1,000,000): a floor: retention never leaves a repository with fewer
 *   than this many (counted) tags.
 *
 * Tag globs are those of immutability rules (`TagPattern`): `*` any run of characters, `?` one
 * character, anything else itself, 1 to 128 characters of `A-Za-z0-9_.-*?`.
 */
export interface RetentionPolicy {
  repositories: string;
  keepLastN?: number;
  keepDays?: number;
  deleteAfterDays?: DeleteAfterDaysRule[];
  keepPatterns?: string[];
  keepMin?: number;
}

/** The fields of a policy other than `repositories`: what `retention_policies.rules` holds. */
export type RetentionRules = Omit<RetentionPolicy, 'repositories'>;

export const MAX_POLICIES = 1000;
export const MAX_COUNT = 1_000_000;
export const MAX_DAYS = 36_500;
export const MAX_PATTERNS = 100;

const POLICY_FIELDS = [
  'repositories',
  'keepLastN',
  'keepDays',
  'deleteAfterDays',
  'keepPatterns',
  'keepMin',
];

/**
 * Validates the body of `PUT /admin/v1/retention/policies` (`{ "policies": [...] }`) and returns
 * the policies in canonical form (only the fields given, in a fixed order). Throws a 400
 * (UNSUPPORTED) naming the policy and the field at fault: unknown fields are refused rather than
 * ignored, so a misspelt rule (`keep_last_n`) cannot silently widen what is deleted.
 */
export function parseRetentionPolicies(body: unknown): RetentionPolicy[] {
  const policies = isObject(body) ? body.policies : undefined;
  if (!Array.isArray(policies)) {
    throw badRequest('body must be {"policies": [{"repositories": "<glob>", ...rules}]}');
  }
  if (policies.length > MAX_POLICIES) {
    throw badRequest(`at most ${MAX_POLICIES} policies`);
  }
  const seen = new Set<string>();
  return policies.map((raw: unknown, index) => {
    const policy = parseRetentionPolicy(raw, index);
    if (seen.has(policy.repositories)) {
      throw badRequest(`policy ${index}: a policy for "${policy.repositories}" is already given`);
    }
    seen.add(policy.repositories);
    return policy;
  });
}

/** Validates one policy (`index` names it in errors). */
export function parseRetentionPolicy(raw: unknown, index = 0): RetentionPolicy {
  if (!isObject(raw)) throw badRequest(`policy ${index} must be an object`);
  const where =
    typeof raw.repositories === 'string'
      ? `policy ${index} ("${raw.repositories}")`
      : `policy ${index}`;
  for (const key of Object.keys(raw)) {
    if (!POLICY_FIELDS.includes(key)) {
      throw badRequest(`${where}: unknown field "${key}" (allowed: ${POLICY_FIELDS.join(', ')})`);
    }
  }
  if (typeof raw.repositories !== 'string' || !RepositoryPattern.isValid(raw.repositories)) {
    throw badRequest(
      `${where}: "repositories" must be a repository glob such as "**" or "team-a/*" ` +
        '(lower-case letters, digits, ".", "_", "-", "/", "*", "?")',
    );
  }
  const policy: RetentionPolicy = { repositories: raw.repositories };
  if (raw.keepLastN !== undefined) {
    policy.keepLastN = integer(raw.keepLastN, 1, MAX_COUNT, `${where}: "keepLastN"`);
  }
  if (raw.keepDays !== undefined) {
    policy.keepDays = integer(raw.keepDays, 1, MAX_DAYS, `${where}: "keepDays"`);
  }
  if (raw.deleteAfterDays !== undefined) {
    policy.deleteAfterDays = list(raw.deleteAfterDays, `${where}: "deleteAfterDays"`).map(
      (rule: unknown, i) => parseDeleteAfterDays(rule, `${where}: "deleteAfterDays"[${i}]`),
    );
  }
  if (raw.keepPatterns !== undefined) {
    policy.keepPatterns = list(raw.keepPatterns, `${where}: "keepPatterns"`).map(
      (pattern: unknown, i) => tagGlob(pattern, `${where}: "keepPatterns"[${i}]`),
    );
  }
  if (raw.keepMin !== undefined) {
    policy.keepMin = integer(raw.keepMin, 0, MAX_COUNT, `${where}: "keepMin"`);
  }
  return policy;
}

/** Splits a policy into its row: the pattern column and the `rules` jsonb. */
export function policyRules(policy: RetentionPolicy): RetentionRules {
  const { repositories: _pattern, ...rules } = policy;
  return rules;
}

/** A 400 for an invalid policy or request. */

function parseDeleteAfterDays(raw: unknown, where: string): DeleteAfterDaysRule {
  if (!isObject(raw)) throw badRequest(`${where} must be {"tags": "<glob>", "days": <n>}`);
  for (const key of Object.keys(raw)) {
    if (key !== 'tags' && key !== 'days') {
      throw badRequest(`${where}: unknown field "${key}" (allowed: tags, days)`);
    }
  }
  return {
    tags: tagGlob(raw.tags, `${where}: "tags"`),
    days: integer(raw.days, 1, MAX_DAYS, `${where}: "days"`),
  };
}

function tagGlob(raw: unknown, where: string): string {
  if (typeof raw !== 'string' || !TagPattern.isValid(raw)) {
    throw badRequest(
      `${where} must be a tag glob of 1 to 128 characters from A-Z a-z 0-9 _ . - * ?`,
    );
  }
  return raw;
}

function integer(raw: unknown, min: number, max: number, where: string): number {
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) {
    throw badRequest(`${where} must be an integer from ${min} to ${max}`);
  }
  return raw;
}

function list(raw: unknown, where: string): unknown[] {
  if (!Array.isArray(raw)) throw badRequest(`${where} must be an array`);
  if (raw.length > MAX_PATTERNS) throw badRequest(`${where}: at most ${MAX_PATTERNS} entries`);
  return raw as unknown[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
