import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { digestOf } from './digest';
import { OciErrorCode } from './errors';
import { assertOciError } from './internal/assert-oci-error';
import {
  isForeignLayer,
  parseDescriptor,
  parseManifest,
  referencedBlobs,
  referencedManifests,
  type Descriptor,
} from './manifest';
import { MediaType } from './media-types';

const LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

function blob(content: string, mediaType: string): Descriptor {
  return { mediaType, digest: digestOf(Buffer.from(content)), size: Buffer.byteLength(content) };
}

const config = blob('{"architecture":"amd64","os":"linux"}', MediaType.OciImageConfig);
const layer0 = blob('layer 0', LAYER);
const layer1 = blob('layer 1', LAYER);
const emptyConfig: Descriptor = { ...blob('{}', MediaType.OciEmptyJson), data: 'e30=' };

function body(doc: unknown): Buffer {
  return Buffer.from(JSON.stringify(doc));
}

function ociImage(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config,
    layers: [layer0, layer1],
    ...extra,
  };
}

function ociIndex(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [
      { ...blob('m1', MediaType.OciManifest), platform: { architecture: 'amd64', os: 'linux' } },
      {
        ...blob('m2', MediaType.OciManifest),
        platform: { architecture: 'arm64', os: 'linux', variant: 'v8' },
      },
    ],
    ...extra,
  };
}

/** Parse `doc` expecting MANIFEST_INVALID with `detail.path === path`. */
function assertInvalid(
  doc: unknown,
  path: string | undefined,
  message?: string | RegExp,
  contentType: string | undefined = undefined,
): void {
  const raw = Buffer.isBuffer(doc) ? doc : body(doc);
  const err = assertOciError(() => parseManifest(raw, contentType), {
    code: OciErrorCode.MANIFEST_INVALID,
    status: 400,
    ...(message === undefined ? {} : { message }),
    ...(path === undefined ? {} : { path }),
  });
  if (path === undefined) assert.equal(err.detail, undefined);
}

describe('parseManifest: valid manifests', () => {
  it('parses an OCI image manifest', () => {
    const m = parseManifest(
      body(ociImage({ annotations: { 'org.example': 'v' } })),
      MediaType.OciManifest,
    );
    assert.deepEqual(m, {
      mediaType: MediaType.OciManifest,
      kind: 'image',
      config,
      layers: [layer0, layer1],
      manifests: [],
      artifactType: MediaType.OciImageConfig,
      annotations: { 'org.example': 'v' },
    });
    assert.deepEqual(referencedBlobs(m), [config, layer0, layer1]);
    assert.deepEqual(referencedManifests(m), []);
  });

  it('parses an OCI index', () => {
    const doc = ociIndex();
    const m = parseManifest(body(doc), `${MediaType.OciIndex}; charset=utf-8`);
    assert.equal(m.kind, 'index');
    assert.equal(m.mediaType, MediaType.OciIndex);
    assert.equal(m.config, undefined);
    assert.deepEqual(m.layers, []);
    assert.deepEqual(m.manifests, doc['manifests']);
    assert.equal(m.artifactType, undefined);
    assert.deepEqual(referencedManifests(m), doc['manifests']);
    assert.deepEqual(referencedBlobs(m), []);
  });

  it('parses a Docker schema2 manifest', () => {
    const dockerConfig = { ...config, mediaType: MediaType.DockerImageConfig };
    const dockerLayer = { ...layer0, mediaType: DOCKER_LAYER };
    const doc = {
      schemaVersion: 2,
      mediaType: MediaType.DockerManifest,
      config: dockerConfig,
      layers: [dockerLayer],
    };
    const m = parseManifest(body(doc), MediaType.DockerManifest);
    assert.equal(m.kind, 'image');
    assert.equal(m.mediaType, MediaType.DockerManifest);
    assert.deepEqual(m.config, dockerConfig);
    assert.deepEqual(m.layers, [dockerLayer]);
    assert.equal(m.artifactType, MediaType.DockerImageConfig);
  });

  it('parses a Docker manifest list', () => {
    const entry = {
      ...blob('m', MediaType.DockerManifest),
      platform: {
        architecture: 'amd64',
        os: 'windows',
        'os.version': '10.0.17763.1',
        'os.features': ['win32k'],
        features: ['sse4'],
      },
    };
    const doc = { schemaVersion: 2, mediaType: MediaType.DockerManifestList, manifests: [entry] };
    const m = parseManifest(body(doc), MediaType.DockerManifestList);
    assert.equal(m.kind, 'index');
    assert.deepEqual(m.manifests, [entry]);
  });

  it('parses an artifact with artifactType, the empty config and a subject', () => {
    const subject = blob('the image', MediaType.OciManifest);
    const doc = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      artifactType: 'application/vnd.example.sbom.v1+json',
      config: emptyConfig,
      layers: [emptyConfig],
      subject,
    };
    const m = parseManifest(body(doc), MediaType.OciManifest);
    assert.equal(m.artifactType, 'application/vnd.example.sbom.v1+json');
    assert.deepEqual(m.subject, subject);
    assert.deepEqual(m.config, emptyConfig);
    assert.deepEqual(m.layers, [emptyConfig]);
  });

  it('uses config.mediaType as artifactType when the field is absent', () => {
    const doc = ociImage({ config: { ...config, mediaType: 'application/vnd.example.thing' } });
    assert.equal(parseManifest(body(doc), undefined).artifactType, 'application/vnd.example.thing');
  });

  it('parses an index with artifactType and subject', () => {
    const subject = blob('img', MediaType.OciManifest);
    const doc = ociIndex({ artifactType: 'application/vnd.example.bundle', subject });
    const m = parseManifest(body(doc), MediaType.OciIndex);
    assert.equal(m.artifactType, 'application/vnd.example.bundle');
    assert.deepEqual(m.subject, subject);
  });

  it('accepts an empty layers array', () => {
    const m = parseManifest(body(ociImage({ layers: [] })), MediaType.OciManifest);
    assert.deepEqual(m.layers, []);
    assert.deepEqual(referencedBlobs(m), [config]);
  });

  it('accepts an empty manifests array', () => {
    assert.deepEqual(parseManifest(body(ociIndex({ manifests: [] })), undefined).manifests, []);
  });

  it('keeps only known descriptor fields and ignores unknown members', () => {
    const doc = ociImage({
      layers: [{ ...layer0, urls: ['https://example.com/l'], future: { x: 1 } }],
      somethingNew: true,
    });
    const m = parseManifest(body(doc), MediaType.OciManifest);
    assert.deepEqual(m.layers, [{ ...layer0, urls: ['https://example.com/l'] }]);
  });

  it('treats null optional members as absent', () => {
    const doc = ociImage({ annotations: null, subject: null, artifactType: null, manifests: null });
    const m = parseManifest(body(doc), MediaType.OciManifest);
    assert.equal(m.annotations, undefined);
    assert.equal(m.subject, undefined);
    assert.equal(m.artifactType, MediaType.OciImageConfig);
  });

  it('ignores subject and artifactType on Docker types', () => {
    const doc = {
      schemaVersion: 2,
      mediaType: MediaType.DockerManifest,
      config: { ...config, mediaType: MediaType.DockerImageConfig },
      layers: [],
      subject: 'not even a descriptor',
      artifactType: 42,
    };
    const m = parseManifest(body(doc), MediaType.DockerManifest);
    assert.equal(m.subject, undefined);
    assert.equal(m.artifactType, MediaType.DockerImageConfig);
  });

  it('keeps a "__proto__" annotation as a plain key', () => {
    const raw = Buffer.from(
      `{"schemaVersion":2,"mediaType":"${MediaType.OciManifest}","config":${JSON.stringify(config)},"layers":[],"annotations":{"__proto__":"x"}}`,
    );
    const m = parseManifest(raw, undefined);
    assert.ok(m.annotations);
    assert.equal(Object.getPrototypeOf(m.annotations), Object.prototype);
    assert.deepEqual(Object.keys(m.annotations), ['__proto__']);
  });

  it('parses sha512 descriptors', () => {
    const l = { mediaType: LAYER, digest: digestOf(Buffer.from('x'), 'sha512'), size: 1 };
    assert.deepEqual(parseManifest(body(ociImage({ layers: [l] })), undefined).layers, [l]);
  });
});

describe('parseManifest: media type resolution', () => {
  it('uses the mediaType field over a generic Content-Type', () => {
    for (const ct of [
      'application/json',
      'application/octet-stream',
      'application/json; charset=utf-8',
    ]) {
      assert.equal(parseManifest(body(ociIndex()), ct).mediaType, MediaType.OciIndex);
    }
  });

  it('uses the Content-Type when the field is absent', () => {
    const doc = {
      schemaVersion: 2,
      config: { ...config, mediaType: MediaType.DockerImageConfig },
      layers: [],
    };
    assert.equal(
      parseManifest(body(doc), MediaType.DockerManifest).mediaType,
      MediaType.DockerManifest,
    );
    assert.equal(
      parseManifest(body(doc), 'Application/Vnd.Docker.Distribution.Manifest.V2+Json').mediaType,
      MediaType.DockerManifest,
    );
  });

  it('detects OCI manifests and indexes without a mediaType by shape', () => {
    const image = ociImage({ mediaType: undefined });
    const index = ociIndex({ mediaType: undefined });
    for (const ct of [undefined, '', 'application/json', 'application/x-unknown']) {
      assert.equal(parseManifest(body(image), ct).mediaType, MediaType.OciManifest);
      assert.equal(parseManifest(body(index), ct).mediaType, MediaType.OciIndex);
    }
  });

  it('refuses a mediaType field that differs from the Content-Type', () => {
    assertInvalid(ociImage(), 'mediaType', 'does not match Content-Type', MediaType.OciIndex);
    assertInvalid(ociImage(), 'mediaType', 'does not match Content-Type', 'text/plain');
  });

  it('refuses unknown media types, listing the supported ones', () => {
    assertInvalid(
      ociImage({ mediaType: 'application/vnd.oci.artifact.manifest.v1+json' }),
      'mediaType',
      `supported: ${MediaType.OciManifest}`,
      'application/vnd.oci.artifact.manifest.v1+json',
    );
    assertInvalid(
      { schemaVersion: 2, blobs: [] },
      undefined,
      /unsupported manifest media type "application\/vnd\.x".*supported:/,
      'application/vnd.x',
    );
  });

  it('refuses a mediaType field whose case differs from the registered type', () => {
    assertInvalid(
      ociImage({ mediaType: MediaType.OciManifest.toUpperCase() }),
      'mediaType',
      'unsupported manifest media type',
    );
  });

  it('refuses a non-string mediaType field', () => {
    assertInvalid(ociImage({ mediaType: 2 }), 'mediaType', 'must be a string');
  });

  it('refuses a body whose kind cannot be determined', () => {
    assertInvalid({ schemaVersion: 2 }, undefined, 'cannot determine the manifest media type');
    assertInvalid(
      { schemaVersion: 2, config, layers: [], manifests: [] },
      undefined,
      'ambiguous manifest',
    );
  });

  it('refuses Docker schema1 in all its forms', () => {
    const schema1 = { schemaVersion: 1, name: 'a', tag: 'latest', fsLayers: [], history: [] };
    const message = 'Docker schema1 manifests are not supported';
    assertInvalid(schema1, undefined, message, MediaType.DockerSchema1Signed);
    assertInvalid(schema1, undefined, message, MediaType.DockerSchema1);
    assertInvalid(schema1, undefined, message, undefined);
    assertInvalid(schema1, undefined, message, MediaType.DockerManifest);
    assertInvalid(
      { ...schema1, mediaType: MediaType.DockerSchema1 },
      undefined,
      message,
      undefined,
    );
    assertInvalid(
      ociImage({ mediaType: undefined }),
      undefined,
      message,
      MediaType.DockerSchema1Signed,
    );
  });
});

describe('parseManifest: structure errors', () => {
  it('refuses invalid JSON', () => {
    assertInvalid(Buffer.from('{"schemaVersion": 2,'), undefined, 'not valid JSON');
    assertInvalid(Buffer.from(''), undefined, 'not valid JSON');
  });

  it('refuses invalid UTF-8', () => {
    assertInvalid(
      Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]),
      undefined,
      'not valid UTF-8',
    );
  });

  it('refuses a byte order mark', () => {
    const raw = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body(ociImage())]);
    assertInvalid(raw, undefined, 'not valid JSON');
  });

  it('refuses non-object documents', () => {
    for (const doc of [[], null, 2, 'x']) assertInvalid(doc, undefined, 'must be a JSON object');
  });

  it('requires schemaVersion 2', () => {
    assertInvalid(ociImage({ schemaVersion: undefined }), 'schemaVersion', 'required');
    assertInvalid(ociImage({ schemaVersion: 3 }), 'schemaVersion', 'got 3');
    assertInvalid(ociImage({ schemaVersion: '2' }), 'schemaVersion', 'got a string');
  });

  it('requires config on images', () => {
    assertInvalid(ociImage({ config: undefined }), 'config', 'config descriptor is required');
    assertInvalid(ociImage({ config: null }), 'config', 'config descriptor is required');
    assertInvalid(ociImage({ config: [] }), 'config', 'got array');
  });

  it('requires layers to be an array on images', () => {
    assertInvalid(ociImage({ layers: undefined }), 'layers', 'layers is required');
    assertInvalid(ociImage({ layers: {} }), 'layers', 'must be an array');
    assertInvalid(ociImage({ layers: [layer0, 'x'] }), 'layers[1]', 'got string');
  });

  it('requires manifests to be an array on indexes', () => {
    assertInvalid(ociIndex({ manifests: undefined }), 'manifests', 'manifests is required');
    assertInvalid(ociIndex({ manifests: 'x' }), 'manifests', 'must be an array');
  });

  it('refuses images with manifests and indexes with config or layers', () => {
    assertInvalid(ociImage({ manifests: [] }), 'manifests', 'must not have');
    assertInvalid(ociIndex({ config }), 'config', 'must not have');
    assertInvalid(ociIndex({ layers: [] }), 'layers', 'must not have');
  });

  it('requires Docker manifest list entries to be manifests', () => {
    const doc = {
      schemaVersion: 2,
      mediaType: MediaType.DockerManifestList,
      manifests: [blob('m', MediaType.DockerManifest), blob('c', MediaType.DockerImageConfig)],
    };
    assertInvalid(doc, 'manifests[1].mediaType', 'must be a manifest');
  });

  it('allows any media type in OCI index entries', () => {
    const doc = ociIndex({ manifests: [blob('x', 'application/vnd.example.thing')] });
    assert.equal(parseManifest(body(doc), undefined).manifests.length, 1);
  });

  it('validates artifactType', () => {
    assertInvalid(ociImage({ artifactType: 'sbom' }), 'artifactType', 'not a valid media type');
    assertInvalid(ociImage({ artifactType: 3 }), 'artifactType', 'must be a string');
    assertInvalid(ociIndex({ artifactType: 'a/b/c' }), 'artifactType', 'not a valid media type');
  });

  it('validates subject', () => {
    assertInvalid(ociImage({ subject: 'sha256:abc' }), 'subject', 'must be a descriptor');
    assertInvalid(ociImage({ subject: { ...layer0, digest: 'x' } }), 'subject.digest');
  });

  it('validates annotations', () => {
    assertInvalid(
      ociImage({ annotations: { a: 'b', n: 1 } }),
      'annotations["n"]',
      'must be strings',
    );
    assertInvalid(ociImage({ annotations: ['a'] }), 'annotations', 'got array');
    assertInvalid(ociImage({ annotations: 'a=b' }), 'annotations', 'got string');
    assertInvalid(
      ociImage({ layers: [{ ...layer0, annotations: { 'org.x': null } }] }),
      'layers[0].annotations["org.x"]',
      'got null',
    );
  });
});

describe('parseManifest: descriptor errors', () => {
  function withLayer(l: Record<string, unknown>): Record<string, unknown> {
    return ociImage({ layers: [layer0, l] });
  }

  it('validates the digest', () => {
    assertInvalid(
      withLayer({ ...layer1, digest: 'sha256:abc' }),
      'layers[1].digest',
      '64 lowercase hex',
    );
    assertInvalid(
      withLayer({ ...layer1, digest: layer1.digest.toUpperCase() }),
      'layers[1].digest',
    );
    assertInvalid(
      withLayer({ ...layer1, digest: 'nonsense' }),
      'layers[1].digest',
      'invalid digest',
    );
    assertInvalid(withLayer({ ...layer1, digest: undefined }), 'layers[1].digest', 'required');
    assertInvalid(withLayer({ ...layer1, digest: 5 }), 'layers[1].digest', 'must be a string');
  });

  it('reports an unsupported digest algorithm as MANIFEST_INVALID', () => {
    assertInvalid(
      withLayer({ ...layer1, digest: `md5:${'0'.repeat(32)}` }),
      'layers[1].digest',
      'not supported',
    );
  });

  it('validates the size', () => {
    assertInvalid(
      withLayer({ ...layer1, size: -1 }),
      'layers[1].size',
      'non-negative integer, got -1',
    );
    assertInvalid(withLayer({ ...layer1, size: 1.5 }), 'layers[1].size', 'got 1.5');
    assertInvalid(withLayer({ ...layer1, size: '7' }), 'layers[1].size', 'got a string');
    assertInvalid(withLayer({ ...layer1, size: 2 ** 53 }), 'layers[1].size');
    assertInvalid(withLayer({ ...layer1, size: undefined }), 'layers[1].size', 'required');
    const zero = { ...layer1, size: 0 };
    assert.equal(parseManifest(body(withLayer(zero)), undefined).layers[1]?.size, 0);
  });

  it('validates the mediaType', () => {
    assertInvalid(
      withLayer({ ...layer1, mediaType: undefined }),
      'layers[1].mediaType',
      'required',
    );
    assertInvalid(
      withLayer({ ...layer1, mediaType: 'tar' }),
      'layers[1].mediaType',
      'not a valid media type',
    );
    assertInvalid(ociImage({ config: { ...config, mediaType: '' } }), 'config.mediaType');
  });

  it('validates urls', () => {
    assertInvalid(
      withLayer({ ...layer1, urls: 'https://x' }),
      'layers[1].urls',
      'array of strings',
    );
    assertInvalid(
      withLayer({ ...layer1, urls: ['https://x', 3] }),
      'layers[1].urls[1]',
      'must be a string',
    );
  });

  it('validates platform', () => {
    const entry = blob('m', MediaType.OciManifest);
    assertInvalid(
      ociIndex({ manifests: [{ ...entry, platform: { os: 'linux' } }] }),
      'manifests[0].platform.architecture',
    );
    assertInvalid(
      ociIndex({ manifests: [{ ...entry, platform: { architecture: 'amd64' } }] }),
      'manifests[0].platform.os',
    );
    assertInvalid(
      ociIndex({
        manifests: [{ ...entry, platform: { architecture: 'amd64', os: 'linux', features: 'x' } }],
      }),
      'manifests[0].platform.features',
    );
    assertInvalid(
      ociIndex({
        manifests: [
          { ...entry, platform: { architecture: 'amd64', os: 'linux', 'os.version': 10 } },
        ],
      }),
      'manifests[0].platform.os.version',
    );
    assertInvalid(
      ociIndex({ manifests: [{ ...entry, platform: 'linux/amd64' }] }),
      'manifests[0].platform',
    );
  });

  it('checks embedded data against size and digest', () => {
    const data = Buffer.from('hello').toString('base64');
    const good = { ...blob('hello', LAYER), data };
    assert.deepEqual(parseManifest(body(withLayer(good)), undefined).layers[1], good);
    assertInvalid(
      withLayer({ ...good, size: 6 }),
      'layers[1].data',
      'decodes to 5 bytes but size is 6',
    );
    assertInvalid(
      withLayer({ ...good, data: Buffer.from('hellO').toString('base64') }),
      'layers[1].data',
      'does not match digest',
    );
    assertInvalid(withLayer({ ...good, data: 'aGVsbG8' }), 'layers[1].data', 'base64');
    assertInvalid(withLayer({ ...good, data: 'aGVs bG8=' }), 'layers[1].data', 'base64');
    assertInvalid(withLayer({ ...good, data: 7 }), 'layers[1].data', 'must be a string');
  });

  it('checks embedded data with sha512 digests', () => {
    const content = Buffer.from('{}');
    const d = {
      mediaType: MediaType.OciEmptyJson,
      digest: digestOf(content, 'sha512'),
      size: 2,
      data: 'e30=',
    };
    assert.deepEqual(parseManifest(body(ociImage({ config: d })), undefined).config, d);
  });
});

describe('parseDescriptor', () => {
  it('uses the given path prefix', () => {
    const err = assertOciError(() => parseDescriptor({ ...layer0, size: -1 }, 'subject'), {
      code: OciErrorCode.MANIFEST_INVALID,
      path: 'subject.size',
    });
    assert.match(err.message, /^subject\.size: /);
    assertOciError(() => parseDescriptor({ ...layer0, size: -1 }), {
      code: OciErrorCode.MANIFEST_INVALID,
      path: 'size',
    });
  });
});

describe('isForeignLayer', () => {
  it('is true only for foreign or non-distributable layers with urls', () => {
    const foreign = {
      ...layer0,
      mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
      urls: ['https://example.com/layer'],
    };
    assert.ok(isForeignLayer(foreign));
    assert.ok(
      isForeignLayer({
        ...foreign,
        mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
      }),
    );
    assert.ok(!isForeignLayer({ ...foreign, urls: [] }));
    assert.ok(!isForeignLayer({ ...foreign, urls: undefined }));
    assert.ok(!isForeignLayer({ ...layer0, urls: ['https://example.com/layer'] }));
  });
});
