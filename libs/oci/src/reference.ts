import { parseDigest, type Digest } from './digest';
import { OciError, OciErrorCode } from './errors';
import { quote } from './internal/quote';

const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';

/** Repository name grammar of the OCI distribution spec (anchored). */
export const REPOSITORY_NAME_PATTERN = new RegExp(`^${COMPONENT}(?:\\/${COMPONENT})*$`);

const COMPONENT_PATTERN = new RegExp(`^${COMPONENT}$`);

/** Longest repository name accepted (the limit used by CNCF distribution and most clients). */
export const MAX_REPOSITORY_NAME_LENGTH = 255;

/** Tag grammar of the OCI distribution spec (anchored): at most 128 characters. */
export const TAG_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

export function isValidRepositoryName(name: string): boolean {
  return (
    typeof name === 'string' &&
    name.length <= MAX_REPOSITORY_NAME_LENGTH &&
    REPOSITORY_NAME_PATTERN.test(name)
  );
}

/** Throws OciError(NAME_INVALID) with a message naming what is wrong with `name`. */
export function assertRepositoryName(name: string): void {
  if (isValidRepositoryName(name)) return;
  throw new OciError(OciErrorCode.NAME_INVALID, describeNameProblem(name), {
    detail: typeof name === 'string' ? { name: name.slice(0, 300) } : undefined,
  });
}

function describeNameProblem(name: string): string {
  if (typeof name !== 'string' || name === '') return 'repository name must not be empty';
  if (name.length > MAX_REPOSITORY_NAME_LENGTH) {
    return `repository name must be at most ${MAX_REPOSITORY_NAME_LENGTH} characters (got ${name.length})`;
  }
  if (name !== name.toLowerCase()) {
    return `invalid repository name ${quote(name)}: must be lowercase`;
  }
  const components = name.split('/');
  const index = components.findIndex((c) => !COMPONENT_PATTERN.test(c));
  const component = components[index] ?? '';
  if (component === '') {
    return `invalid repository name ${quote(name)}: empty path component (leading, trailing or repeated "/")`;
  }
  return (
    `invalid repository name ${quote(name)}: path component ${quote(component)} must be ` +
    'lowercase letters and digits separated by ".", "_", "__" or runs of "-"'
  );
}

export function isValidTag(tag: string): boolean {
  return typeof tag === 'string' && TAG_PATTERN.test(tag);
}

/** The `<reference>` of `/v2/<name>/manifests/<reference>`: a tag or a digest. */
export type ManifestReference = { kind: 'tag'; tag: string } | { kind: 'digest'; digest: Digest };

/**
 * Parse a manifest reference. Anything containing ':' is a digest (tags cannot contain ':').
 *
 * Throws:
 * - OciError(DIGEST_INVALID) for a malformed or unsupported digest (see `parseDigest`);
 * - OciError(MANIFEST_INVALID, status 400) for an invalid tag. The distribution spec has no
 *   dedicated code for a malformed tag (CNCF distribution's TAG_INVALID means "tag does not
 *   match the URI"); MANIFEST_INVALID is right for a push. For pulls and deletes a caller may
 *   prefer to answer MANIFEST_UNKNOWN (404), since no manifest can have such a tag.
 */
export function parseManifestReference(ref: string): ManifestReference {
  if (typeof ref === 'string' && ref.includes(':')) {
    return { kind: 'digest', digest: parseDigest(ref) };
  }
  if (!isValidTag(ref)) {
    throw new OciError(
      OciErrorCode.MANIFEST_INVALID,
      `invalid tag ${typeof ref === 'string' ? quote(ref) : typeof ref}: a tag is 1 to 128 characters ` +
        'of letters, digits, "_", "." and "-", and must not start with "." or "-"',
      { status: 400, detail: typeof ref === 'string' ? { tag: ref.slice(0, 200) } : undefined },
    );
  }
  return { kind: 'tag', tag: ref };
}
