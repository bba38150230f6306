import type { IncomingMessage } from 'node:http';

/**
 * Repository names contain slashes (`org/team/app`), which a router cannot match as one
 * parameter. Before routing, `/v2/<name>/<endpoint>` is rewritten to `/v2/_r/<endpoint>` and
 * the name is kept on the raw request, so controllers keep plain routes. `_r` cannot be a
 * repository name: name components start with `[a-z0-9]`.
 */
const V2_REPOSITORY_PATH =
  /^\/v2\/(.+?)\/(tags\/list|manifests\/[^/]+|blobs\/uploads\/?[^/]*|blobs\/[^/]+|referrers\/[^/]+)\/?$/;

export const REWRITTEN_PREFIX = '/v2/_r/';

interface RequestWithRepository extends IncomingMessage {
  berthRepository?: string;
}

export function rewriteRegistryUrl(req: IncomingMessage): string {
  const url = req.url ?? '/';
  if (!url.startsWith('/v2/')) return url;
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const match = V2_REPOSITORY_PATH.exec(path);
  if (!match || path === '/v2/_catalog') return url;
  (req as RequestWithRepository).berthRepository = match[1];
  return `${REWRITTEN_PREFIX}${match[2]}${queryAt === -1 ? '' : url.slice(queryAt)}`;
}

/** The repository name captured by `rewriteRegistryUrl`, if any. */
export function repositoryOf(req: IncomingMessage): string | undefined {
  return (req as RequestWithRepository).berthRepository;
}
