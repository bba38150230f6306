import type { RepositoryAction } from './auth.decorators';

/** One entry of a token's `access` claim (Docker token specification). */
export interface AccessEntry {
  type: 'repository' | 'registry';
  name: string;
  actions: string[];
}

export const REPOSITORY_ACTIONS: readonly RepositoryAction[] = ['pull', 'push', 'delete'];

/**
 * Parses Docker scope strings (`repository:team/app:pull,push`, `registry:catalog:*`), as
 * given in one or more `scope` parameters, each possibly holding several space-separated
 * scopes. Unknown types and malformed entries are dropped (they can never be granted);
 * actions are de-duplicated. `*` on a repository means every repository action.
 */
export function parseScopes(values: readonly string[]): AccessEntry[] {
  const byKey = new Map<string, AccessEntry>();
  for (const value of values) {
    for (const scope of value.split(' ')) {
      const first = scope.indexOf(':');
      const last = scope.lastIndexOf(':');
      if (first <= 0 || last === first) continue;
      const type = scope.slice(0, first);
      const name = scope.slice(first + 1, last);
      let actions = scope
        .slice(last + 1)
        .split(',')
        .filter((a) => a !== '');
      // Resource classes such as `repository(plugin)` are not ours to grant.
      if (type !== 'repository' && type !== 'registry') continue;
      if (name.length === 0 || name.length > 255) continue;
      if (type === 'repository' && actions.includes('*')) actions = [...REPOSITORY_ACTIONS];
      const key = `${type}:${name}`;
      const entry = byKey.get(key) ?? { type, name, actions: [] };
      for (const action of actions) if (!entry.actions.includes(action)) entry.actions.push(action);
      byKey.set(key, entry);
    }
  }
  return [...byKey.values()];
}

export function formatScope(entry: AccessEntry): string {
  return `${entry.type}:${entry.name}:${entry.actions.join(',')}`;
}
