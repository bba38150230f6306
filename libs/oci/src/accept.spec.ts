import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { manifestAcceptable, parseAccept } from './accept';
import { MediaType } from './media-types';

describe('parseAccept', () => {
  it('returns an empty list without a header', () => {
    assert.deepEqual(parseAccept(undefined), []);
    assert.deepEqual(parseAccept(''), []);
    assert.deepEqual(parseAccept([]), []);
  });

  it('splits comma-separated values, strips parameters, keeps order', () => {
    assert.deepEqual(
      parseAccept(
        'application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json;q=0.9 ,*/*; q=0.1',
      ),
      [MediaType.OciIndex, MediaType.DockerManifest, '*/*'],
    );
  });

  it('merges several headers and removes duplicates', () => {
    assert.deepEqual(
      parseAccept([MediaType.OciManifest, `${MediaType.OciIndex}, ${MediaType.OciManifest}`]),
      [MediaType.OciManifest, MediaType.OciIndex],
    );
  });

  it('excludes q=0 entries', () => {
    assert.deepEqual(
      parseAccept(
        `${MediaType.OciIndex};q=0, ${MediaType.OciManifest};q=0.000, ${MediaType.DockerManifest};Q=0.0;x=y, text/plain;q=0.01`,
      ),
      ['text/plain'],
    );
  });

  it('lower-cases and ignores garbage entries', () => {
    assert.deepEqual(parseAccept('Application/JSON, , *, foo, a/b/c'), ['application/json']);
  });
});

describe('manifestAcceptable', () => {
  it('accepts anything without an Accept list or with a wildcard', () => {
    assert.ok(manifestAcceptable(MediaType.OciIndex, []));
    assert.ok(manifestAcceptable(MediaType.OciIndex, ['*/*']));
    assert.ok(manifestAcceptable(MediaType.OciIndex, ['application/*']));
  });

  it('accepts listed types and application/json', () => {
    assert.ok(manifestAcceptable(MediaType.OciIndex, parseAccept(MediaType.OciIndex)));
    assert.ok(manifestAcceptable(MediaType.DockerManifest, parseAccept('application/json')));
  });

  it('refuses types the client did not list', () => {
    const dockerOnly = parseAccept(
      `${MediaType.DockerManifest}, ${MediaType.DockerManifestList}, ${MediaType.OciIndex};q=0`,
    );
    assert.ok(!manifestAcceptable(MediaType.OciIndex, dockerOnly));
    assert.ok(!manifestAcceptable(MediaType.OciManifest, dockerOnly));
    assert.ok(manifestAcceptable(MediaType.DockerManifestList, dockerOnly));
    assert.ok(!manifestAcceptable(MediaType.OciManifest, ['text/*']));
  });
});
