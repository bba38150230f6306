import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadAll } from 'js-yaml';

/** `deploy/kubernetes/control-plane-rbac.yaml`, from `apps/control-plane/dist/runtime/kubernetes/testing`. */
export const RBAC_EXAMPLE_PATH = resolve(
  __dirname,
  '../../../../../../deploy/kubernetes/control-plane-rbac.yaml',
);

export interface RbacDocument {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [field: string]: unknown;
}

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export function loadRbacExample(): RbacDocument[] {
  return loadAll(readFileSync(RBAC_EXAMPLE_PATH, 'utf8')) as RbacDocument[];
}

export function clusterRoleRules(documents: RbacDocument[]): PolicyRule[] {
  const role = documents.find((document) => document.kind === 'ClusterRole');
  if (role === undefined) throw new Error('no ClusterRole in the RBAC example');
  return role.rules as PolicyRule[];
}

/** Whether the rules allow `verb` on `group`/`resource` (no wildcards are used or honoured). */
export function allows(
  rules: PolicyRule[],
  group: string,
  resource: string,
  verb: string,
): boolean {
  return rules.some(
    (rule) =>
      rule.apiGroups.includes(group) &&
      rule.resources.includes(resource) &&
      rule.verbs.includes(verb),
  );
}
