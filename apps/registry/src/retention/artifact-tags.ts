/**
 * Tags of the cosign tag scheme, which attaches signatures, attestations and SBOMs to an image
 * by naming a tag after the image's digest: `sha256-<hex>.sig`, `sha256-<hex>.att`,
 * `sha256-<hex>.sbom` (and `sha512-<hex>.*` for sha512 digests). Retention never counts such a
 * tag among a repository's tags and never selects it by a rule: it goes when the manifest it is
 * named after is deleted.
 */
const ARTIFACT_TAG = /^(?:sha256-[0-9a-f]{64}|sha512-[0-9a-f]{128})\.(?:sig|att|sbom)$/;

const SUFFIXES = ['sig', 'att', 'sbom'] as const;

/** Whether `tag` is a signature, attestation or SBOM tag (`sha256-<hex>.sig` ...). */
export function isArtifactTag(tag: string): boolean {
  return ARTIFACT_TAG.test(tag);
}

/**
 * The signature, attestation and SBOM tags named after `digest`
 * (`sha256:ab…` → `sha256-ab….sig`, `.att`, `.sbom`); none for digests of other algorithms.
 */
export function artifactTagsOf(digest: string): string[] {
  const match = /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/.exec(digest);
  if (!match) return [];
  const base = digest.replace(':', '-');
  return SUFFIXES.map((suffix) => `${base}.${suffix}`);
}
