import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  MANIFEST_MEDIA_TYPES,
  MediaType,
  isImageManifestMediaType,
  isIndexMediaType,
  isManifestMediaType,
  isSchema1MediaType,
  isValidMediaType,
  normalizeContentType,
} from './media-types';

describe('media types', () => {
  it('has the exact wire values', () => {
    assert.equal(MediaType.OciManifest, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(MediaType.OciIndex, 'application/vnd.oci.image.index.v1+json');
    assert.equal(MediaType.DockerManifest, 'application/vnd.docker.distribution.manifest.v2+json');
    assert.equal(
      MediaType.DockerManifestList,
      'application/vnd.docker.distribution.manifest.list.v2+json',
    );
    assert.equal(MediaType.DockerSchema1, 'application/vnd.docker.distribution.manifest.v1+json');
    assert.equal(
      MediaType.DockerSchema1Signed,
      'application/vnd.docker.distribution.manifest.v1+prettyjws',
    );
    assert.equal(MediaType.OciEmptyJson, 'application/vnd.oci.empty.v1+json');
    assert.equal(MediaType.OciImageConfig, 'application/vnd.oci.image.config.v1+json');
    assert.equal(MediaType.DockerImageConfig, 'application/vnd.docker.container.image.v1+json');
  });

  it('lists the four supported manifest types, frozen', () => {
    assert.deepEqual(
      [...MANIFEST_MEDIA_TYPES].sort(),
      [
        MediaType.DockerManifest,
        MediaType.DockerManifestList,
        MediaType.OciIndex,
        MediaType.OciManifest,
      ].sort(),
    );
    assert.ok(Object.isFrozen(MANIFEST_MEDIA_TYPES));
  });

  it('classifies manifest types', () => {
    assert.ok(isIndexMediaType(MediaType.OciIndex));
    assert.ok(isIndexMediaType(MediaType.DockerManifestList));
    assert.ok(!isIndexMediaType(MediaType.OciManifest));
    assert.ok(isImageManifestMediaType(MediaType.OciManifest));
    assert.ok(isImageManifestMediaType(MediaType.DockerManifest));
    assert.ok(!isImageManifestMediaType(MediaType.DockerManifestList));
    assert.ok(!isImageManifestMediaType(MediaType.DockerSchema1));
    assert.ok(isManifestMediaType(MediaType.OciIndex));
    assert.ok(!isManifestMediaType(MediaType.DockerSchema1Signed));
    assert.ok(!isManifestMediaType(MediaType.OciImageConfig));
    assert.ok(isSchema1MediaType(MediaType.DockerSchema1Signed));
    assert.ok(!isSchema1MediaType(MediaType.DockerManifest));
  });

  it('validates media type syntax (RFC 6838)', () => {
    assert.ok(isValidMediaType('application/vnd.oci.image.layer.v1.tar+gzip'));
    assert.ok(isValidMediaType('text/plain'));
    assert.ok(!isValidMediaType('application'));
    assert.ok(!isValidMediaType('application/'));
    assert.ok(!isValidMediaType('/json'));
    assert.ok(!isValidMediaType('application/json; charset=utf-8'));
    assert.ok(!isValidMediaType('application/a/b'));
    assert.ok(!isValidMediaType('.application/json'));
    assert.ok(!isValidMediaType(`application/${'a'.repeat(128)}`));
    assert.ok(isValidMediaType(`application/${'a'.repeat(127)}`));
  });

  it('normalises Content-Type values', () => {
    assert.equal(
      normalizeContentType(' Application/VND.OCI.image.manifest.v1+json ; charset=utf-8'),
      'application/vnd.oci.image.manifest.v1+json',
    );
    assert.equal(normalizeContentType(''), undefined);
    assert.equal(normalizeContentType(' ; a=b'), undefined);
    assert.equal(normalizeContentType(undefined), undefined);
  });
});
