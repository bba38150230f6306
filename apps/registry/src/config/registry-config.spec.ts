import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { ConfigError, describeConfig, loadRegistryConfig } from './registry-config';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadRegistryConfig(env, '/srv');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  assert.fail('configuration was accepted');
}

describe('registry configuration', () => {
  it('defaults to the single-machine quick start', () => {
    const config = loadRegistryConfig({}, '/srv');
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 5000);
    assert.equal(config.dataDir, '/srv/data');
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.storage, 'filesystem');
    assert.equal(config.filesystemReads, 'adaptive');
    assert.equal(config.maxManifestBytes, 4 * 1024 * 1024);
    assert.equal(config.sparseManifests, false);
    assert.equal(config.auth.mode, 'token');
    assert.equal(config.auth.rateLimitRequests, 500);
    assert.equal(config.auth.lockoutThreshold, 10);
    assert.equal(config.auth.auditRetentionDays, 90);
  });

  it('switches to S3 when a bucket is given', () => {
    const config = loadRegistryConfig({ S3_BUCKET: 'b', S3_ENDPOINT: 'http://127.0.0.1:9000' });
    assert.equal(config.storage, 's3');
    assert.equal(config.s3?.bucket, 'b');
    assert.equal(config.s3?.region, 'us-east-1');
  });

  it('reports every wrong value at once, readably', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      STORAGE_DRIVER: 'floppy',
      DATABASE_URL: 'mysql://x',
      REGISTRY_SPARSE_MANIFESTS: 'maybe',
      LOG_LEVEL: 'loud',
      REGISTRY_MAX_MANIFEST_BYTES: '10',
      STORAGE_FS_READS: 'mmap',
    });
    assert.equal(problems.length, 7, problems.join('\n'));
    assert.match(problems.join('\n'), /PORT="eighty" is not a whole number/);
    assert.match(problems.join('\n'), /STORAGE_DRIVER="floppy" is not one of: filesystem, s3/);
    assert.match(problems.join('\n'), /DATABASE_URL must use postgres: or postgresql:/);
    assert.match(problems.join('\n'), /REGISTRY_MAX_MANIFEST_BYTES=10 is out of range/);
    assert.match(problems.join('\n'), /STORAGE_FS_READS="mmap" is not one of: adaptive, pool/);
  });

  it('requires a bucket and paired credentials for S3', () => {
    const problems = problemsOf({ STORAGE_DRIVER: 's3', S3_ACCESS_KEY_ID: 'k' });
    assert.match(problems.join('\n'), /S3_BUCKET is required/);
    assert.match(problems.join('\n'), /must be given together/);
  });

  it('never shows secrets, in errors or in the logged configuration', () => {
    const problems = problemsOf({ DATABASE_URL: 'not a url with secret' });
    assert.doesNotMatch(problems.join('\n'), /secret/);
    const config = loadRegistryConfig({
      DATABASE_URL: 'postgres://u:hunter2@db/registry',
      S3_BUCKET: 'b',
      S3_ACCESS_KEY_ID: 'k',
      S3_SECRET_ACCESS_KEY: 'topsecret',
    });
    const shown = JSON.stringify(describeConfig(config));
    assert.doesNotMatch(shown, /hunter2|topsecret/);
  });

  it('takes a provisioned EC P-256 signing key, as PKCS#8 or SEC1, with real or escaped line breaks', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pkcs8 = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const sec1 = privateKey.export({ format: 'pem', type: 'sec1' }).toString();
    const expected = publicKey.export({ format: 'jwk' });
    for (const value of [pkcs8, sec1, pkcs8.replace(/\n/g, '\\n')]) {
      const pem = loadRegistryConfig({ REGISTRY_SIGNING_KEY: value }).auth.signingKeyPem;
      if (pem === undefined) assert.fail('the key was not taken');
      assert.ok(pem.startsWith('-----BEGIN PRIVATE KEY-----'));
      assert.deepEqual(createPublicKey(pem).export({ format: 'jwk' }), expected);
    }
    assert.equal(loadRegistryConfig({}).auth.signingKeyPem, undefined);
  });

  it('refuses a signing key that is not an EC P-256 private key, without showing it', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const publicOnly = p256.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const cases: [string, RegExp][] = [
      ['not a key hunter2', /REGISTRY_SIGNING_KEY is not a PEM private key/],
      [publicOnly, /REGISTRY_SIGNING_KEY is not a PEM private key/],
      [p384, /REGISTRY_SIGNING_KEY is an EC key on secp384r1; .*needs an EC P-256 key/],
      [rsa, /REGISTRY_SIGNING_KEY is a rsa key; .*needs an EC P-256 key/],
    ];
    for (const [value, expected] of cases) {
      const problems = problemsOf({ REGISTRY_SIGNING_KEY: value });
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0], expected);
      assert.doesNotMatch(problems[0], /hunter2|MI[GI]/);
    }
    const config = loadRegistryConfig({
      REGISTRY_SIGNING_KEY: p256.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    });
    assert.doesNotMatch(JSON.stringify(describeConfig(config)), /PRIVATE KEY|MI[GI]/);
  });
});
