import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import type { Caller } from '../auth/auth.decorators';
import {
  OCI_INDEX,
  OCI_MANIFEST,
  imageManifest,
  jsonBlob,
  randomBlob,
  sha256,
} from '../testing/oci-fixtures';
import { startTestRegistry, type TestRegistry } from '../testing/test-registry';
import { RetentionService, type RetentionPlanEntry } from './retention.service';

const ADMIN = 'Basic ' + Buffer.from('admin:admin-password-1').toString('base64');
const SIGNATURE_TYPE = 'application/vnd.dev.cosign.artifact.sig.v1+json';
const SBOM_TYPE = 'application/spdx+json';

let registry: TestRegistry;
let db: Client;
let token = '';

interface Pushed {
  digest: string;
  body: Buffer;
}

async function call(
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${registry.url}${path}`, {
    method,
    body,
    headers: { Authorization: `Bearer ${token}`, ...headers },
  });
}

async function admin(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${registry.url}/admin/v1${path}`, {
    method,
    headers: {
      Authorization: ADMIN,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function json<T>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return JSON.parse(text) as T;
}

/** Pushes a manifest body to `reference` (a tag or its digest). */
async function putManifest(
  repository: string,
  reference: string,
  body: Buffer,
  mediaType = OCI_MANIFEST,
): Promise<Pushed> {
  const res = await call('PUT', `/v2/${repository}/manifests/${reference}`, body, {
    'Content-Type': mediaType,
  });
  assert.equal(res.status, 201, await res.text());
  return { digest: sha256(body), body };
}

/** A fresh image (random config and layer) pushed to `tag`, or by digest when none. */
async function pushImage(
  repository: string,
  tag: string | undefined,
  extra: Record<string, unknown> = {},
): Promise<Pushed> {
  const config = jsonBlob({ os: 'linux', nonce: randomBlob(8).digest });
  const layer = randomBlob(64);
  for (const b of [config, layer]) {
    const res = await call('POST', `/v2/${repository}/blobs/uploads/?digest=${b.digest}`, b.data);
    assert.equal(res.status, 201, await res.text());
  }
  const body = imageManifest(config, [layer], extra);
  return putManifest(repository, tag ?? sha256(body), body);
}

/** A signature-like artifact whose subject is `subject`. */
async function pushAttached(
  repository: string,
  tag: string | undefined,
  subject: Pushed,
  artifactType: string,
): Promise<Pushed> {
  return pushImage(repository, tag, {
    artifactType,
    subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.body.length },
  });
}

/** The cosign tag of a digest: sha256:<hex> → sha256-<hex>.sig */
function sigTag(digest: string): string {
  return `${digest.replace(':', '-')}.sig`;
}

async function age(repository: string, tag: string, days: number): Promise<void> {
  const res = await db.query(
    `UPDATE tags t SET updated_at = now() - make_interval(days => $3)
       FROM repositories r WHERE r.id = t.repository_id AND r.name = $1 AND t.name = $2`,
    [repository, tag, days],
  );
  assert.equal(res.rowCount, 1, `${repository}:${tag}`);
}

async function tags(repository: string): Promise<string[]> {
  const res = await db.query<{ name: string }>(
    `SELECT t.name FROM tags t JOIN repositories r ON r.id = t.repository_id
      WHERE r.name = $1 ORDER BY t.name`,
    [repository],
  );
  return res.rows.map((r) => r.name);
}

async function manifestStatus(repository: string, digest: string): Promise<number> {
  const res = await call('GET', `/v2/${repository}/manifests/${digest}`, undefined, {
    Accept: `${OCI_MANIFEST}, ${OCI_INDEX}`,
  });
  await res.arrayBuffer();
  return res.status;
}

const POLICIES = [
  {
    repositories: '**',
    keepLastN: 2,
    keepDays: 5,
    deleteAfterDays: [{ tags: 'pr-*', days: 7 }],
    keepPatterns: ['latest'],
    keepMin: 1,
  },
  // More specific than `**`: no rules, so team-b repositories are exempt.
  { repositories: 'team-b/*' },
  {
    repositories: 'bulk',
    keepLastN: 1000,
    keepDays: 30,
    deleteAfterDays: [{ tags: 'pr-*', days: 7 }],
    keepPatterns: ['release-*'],
  },
];

const images: Record<string, Pushed> = {};

describe('retention', () => {
  before(async () => {
    registry = await startTestRegistry({
      REGISTRY_AUTH: 'token',
      REGISTRY_ADMIN_PASSWORD: 'admin-password-1',
    });
    db = new Client({ connectionString: registry.databaseUrl });
    await db.connect();
    const res = await fetch(
      `${registry.url}/auth/token?scope=repository:app:pull,push,delete` +
        '&scope=repository:team-b/svc:pull,push,delete',
      { headers: { Authorization: ADMIN } },
    );
    token = (await json<{ token: string }>(res)).token;
    await json(
      await admin('PUT', '/immutability', { rules: [{ repositories: '**', tags: 'v*' }] }),
    );
  });

  after(async () => {
    await db?.end();
    await registry?.close();
  });

  it('deletes nothing without a policy', async () => {
    await pushImage('app', 'early');
    await age('app', 'early', 400);
    assert.deepEqual(await json(await admin('POST', '/retention/dry-run')), { plan: [] });
    assert.deepEqual(await json(await admin('POST', '/retention/run', {})), {
      deleted: [],
      skipped: [],
      manifestsDeleted: 0,
    });
    assert.deepEqual(await tags('app'), ['early']);
    assert.equal((await call('DELETE', '/v2/app/manifests/early')).status, 202);
  });

  it('validates policies and run options with clear 400s', async () => {
    const cases: [unknown, RegExp][] = [
      [{ rules: [] }, /body must be \{"policies"/],
      [{ policies: [{ repositories: 'Team/*' }] }, /"repositories" must be a repository glob/],
      [{ policies: [{ repositories: '**', keep_last_n: 3 }] }, /unknown field "keep_last_n"/],
      [{ policies: [{ repositories: '**', keepLastN: 0 }] }, /"keepLastN" must be an integer/],
      [
        { policies: [{ repositories: '**', deleteAfterDays: [{ tags: 'a/b', days: 7 }] }] },
        /"deleteAfterDays"\[0\]: "tags" must be a tag glob/,
      ],
    ];
    for (const [body, message] of cases) {
      const res = await admin('PUT', '/retention/policies', body);
      const error = await json<{ errors: { code: string; message: string }[] }>(res, 400);
      assert.equal(error.errors[0]?.code, 'UNSUPPORTED');
      assert.match(error.errors[0]?.message ?? '', message);
    }
    const badRun = await admin('POST', '/retention/dry-run', { repositories: 'A B' });
    assert.equal(badRun.status, 400);
    const unknownField = await admin('POST', '/retention/run', { dryRun: true });
    assert.equal(unknownField.status, 400);
    assert.deepEqual(await json(await admin('GET', '/retention/policies')), { policies: [] });
  });

  it('replaces and lists policies; the change is audited', async () => {
    const put = await json<{ policies: unknown[] }>(
      await admin('PUT', '/retention/policies', { policies: POLICIES }),
    );
    const sorted = [...POLICIES].sort((a, b) => (a.repositories < b.repositories ? -1 : 1));
    assert.deepEqual(put.policies, POLICIES);
    assert.deepEqual(await json(await admin('GET', '/retention/policies')), { policies: sorted });
    const audit = await json<{ events: { principal: string; detail: Record<string, unknown> }[] }>(
      await admin('GET', '/audit?action=policy.change'),
    );
    assert.equal(audit.events.length, 1);
    assert.equal(audit.events[0]?.principal, 'admin');
    assert.deepEqual(audit.events[0]?.detail, { policy: 'retention', before: [], after: POLICIES });
  });

  it('is described in the admin OpenAPI document', async () => {
    const doc = await json<{ paths: Record<string, Record<string, { tags?: string[] }>> }>(
      await fetch(`${registry.url}/admin/openapi.json`),
    );
    for (const [path, method] of [
      ['/admin/v1/retention/policies', 'get'],
      ['/admin/v1/retention/policies', 'put'],
      ['/admin/v1/retention/dry-run', 'post'],
      ['/admin/v1/retention/run', 'post'],
    ] as const) {
      assert.deepEqual(doc.paths[path]?.[method]?.tags, ['lifecycle'], `${method} ${path}`);
    }
  });

  it('dry run lists exactly the tags that would go, each with its rule', async () => {
    // Newest first: latest 0d, main-1 1d, pr-2 2d, pr-1 10d, old-1 40d, old-2 50d,
    // old-index 60d (an index of two untagged images), v1 100d (immutable).
    for (const tag of ['latest', 'main-1', 'pr-2', 'pr-1', 'old-1', 'old-2', 'v1']) {
      images[tag] = await pushImage('app', tag);
    }
    const children = [await pushImage('app', undefined), await pushImage('app', undefined)];
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: children.map((c) => ({
          mediaType: OCI_MANIFEST,
          digest: c.digest,
          size: c.body.length,
          platform: { os: 'linux', architecture: 'amd64' },
        })),
      }),
    );
    images['old-index'] = await putManifest('app', 'old-index', index, OCI_INDEX);
    images['child-a'] = children[0];
    images['child-b'] = children[1];
    // Signatures (cosign tag scheme, with a subject) of a kept and of a deleted image, and an
    // untagged SBOM referrer of the deleted one.
    images['sig-latest'] = await pushAttached(
      'app',
      sigTag(images.latest.digest),
      images.latest,
      SIGNATURE_TYPE,
    );
    images['sig-old-1'] = await pushAttached(
      'app',
      sigTag(images['old-1'].digest),
      images['old-1'],
      SIGNATURE_TYPE,
    );
    images['sbom-old-1'] = await pushAttached('app', undefined, images['old-1'], SBOM_TYPE);
    const ages: Record<string, number> = {
      latest: 0,
      'main-1': 1,
      'pr-2': 2,
      'pr-1': 10,
      'old-1': 40,
      'old-2': 50,
      'old-index': 60,
      v1: 100,
      [sigTag(images.latest.digest)]: 200,
      [sigTag(images['old-1'].digest)]: 200,
    };
    for (const [tag, days] of Object.entries(ages)) await age('app', tag, days);
    // Exempt by the more specific `team-b/*` policy.
    images['team-b'] = await pushImage('team-b/svc', 'ancient');
    await age('team-b/svc', 'ancient', 1000);

    const { plan } = await json<{ plan: RetentionPlanEntry[] }>(
      await admin('POST', '/retention/dry-run', {}),
    );
    assert.deepEqual(
      plan.map((e) => [e.repository, e.tag, e.digest, e.rule]),
      [
        ['app', 'pr-1', images['pr-1'].digest, 'delete_after_days:pr-*:7'],
        ['app', 'old-1', images['old-1'].digest, 'not_kept:keep_last_n/keep_days'],
        ['app', 'old-2', images['old-2'].digest, 'not_kept:keep_last_n/keep_days'],
        ['app', 'old-index', images['old-index'].digest, 'not_kept:keep_last_n/keep_days'],
      ],
    );
    for (const e of plan) assert.match(e.pushedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const filtered = await json<{ plan: RetentionPlanEntry[] }>(
      await admin('POST', '/retention/dry-run', { repositories: 'team-b/**' }),
    );
    assert.deepEqual(filtered.plan, []);
    // A dry run deletes nothing.
    assert.equal((await tags('app')).length, 10);

    const evaluation = await registry.running.app
      .get(RetentionService)
      .evaluateRepository(await repositoryId('app'), 'app');
    assert.deepEqual(
      evaluation.keep.map((d) => [d.tag, d.rule]),
      [
        ['latest', 'keep_patterns:latest'],
        ['main-1', 'keep_last_n'],
        ['pr-2', 'keep_days'],
        ['v1', 'immutable'],
      ],
    );
    assert.equal(evaluation.attachedTags, 2);
  });

  it('run deletes those tags, keeps the rest; signatures go with their subject only', async () => {
    const result = await json<{
      deleted: RetentionPlanEntry[];
      skipped: unknown[];
      manifestsDeleted: number;
    }>(await admin('POST', '/retention/run'));
    assert.deepEqual(
      result.deleted.map((e) => [e.tag, e.rule, e.subject]),
      [
        ['pr-1', 'delete_after_days:pr-*:7', undefined],
        ['old-1', 'not_kept:keep_last_n/keep_days', undefined],
        ['old-2', 'not_kept:keep_last_n/keep_days', undefined],
        ['old-index', 'not_kept:keep_last_n/keep_days', undefined],
        [sigTag(images['old-1'].digest), 'subject_deleted', images['old-1'].digest],
      ],
    );
    assert.deepEqual(result.skipped, []);
    // pr-1, old-1, old-2, old-index, its two children, old-1's signature and SBOM.
    assert.equal(result.manifestsDeleted, 8);

    assert.deepEqual(
      await tags('app'),
      ['latest', 'main-1', 'pr-2', sigTag(images.latest.digest), 'v1'].sort(),
    );
    assert.deepEqual(await tags('team-b/svc'), ['ancient']);
    for (const name of ['pr-1', 'old-1', 'old-2', 'old-index', 'child-a', 'child-b']) {
      assert.equal(await manifestStatus('app', images[name].digest), 404, name);
    }
    for (const name of ['sig-old-1', 'sbom-old-1']) {
      assert.equal(await manifestStatus('app', images[name].digest), 404, name);
    }
    for (const name of ['latest', 'main-1', 'pr-2', 'v1', 'sig-latest']) {
      assert.equal(await manifestStatus('app', images[name].digest), 200, name);
    }
    assert.equal(await manifestStatus('team-b/svc', images['team-b'].digest), 200);
    // The kept image's signature is still listed by the referrers API.
    const referrers = await json<{ manifests: { digest: string }[] }>(
      await call('GET', `/v2/app/referrers/${images.latest.digest}`),
    );
    assert.deepEqual(
      referrers.manifests.map((m) => m.digest),
      [images['sig-latest'].digest],
    );
    // Nothing left to do.
    assert.deepEqual(await json(await admin('POST', '/retention/dry-run')), { plan: [] });
  });

  it('records each deletion with its reason in the audit log', async () => {
    const page = await json<{
      events: {
        principal: string;
        repository: string;
        reference: string;
        result: string;
        detail: Record<string, unknown>;
      }[];
    }>(await admin('GET', '/audit?action=retention.delete&limit=1000'));
    const byReference = new Map(page.events.map((e) => [e.reference, e]));
    assert.equal(page.events.length, 13);
    for (const e of page.events) {
      assert.equal(e.principal, 'admin');
      assert.equal(e.repository, 'app');
      assert.equal(e.result, 'success');
    }
    assert.deepEqual(byReference.get('pr-1')?.detail, {
      rule: 'delete_after_days:pr-*:7',
      digest: images['pr-1'].digest,
    });
    assert.deepEqual(byReference.get('old-2')?.detail, {
      rule: 'not_kept:keep_last_n/keep_days',
      digest: images['old-2'].digest,
    });
    assert.deepEqual(byReference.get(sigTag(images['old-1'].digest))?.detail, {
      rule: 'subject_deleted',
      digest: images['sig-old-1'].digest,
      subject: images['old-1'].digest,
    });
    assert.deepEqual(byReference.get(images['old-1'].digest)?.detail, {
      rule: 'untagged',
      digest: images['old-1'].digest,
    });
    assert.deepEqual(byReference.get(images['sbom-old-1'].digest)?.detail, {
      rule: 'subject_deleted',
      digest: images['sbom-old-1'].digest,
      subject: images['old-1'].digest,
    });
    assert.deepEqual(byReference.get(images['child-a'].digest)?.detail, {
      rule: 'parent_deleted',
      digest: images['child-a'].digest,
      parent: images['old-index'].digest,
    });
  });

  it('skips tags moved, pushed again or made immutable since planning', async () => {
    const service = registry.running.app.get(RetentionService);
    for (const tag of ['tmp-moved', 'tmp-repushed', 'tmp-frozen', 'tmp-gone']) {
      images[tag] = await pushImage('app', tag);
      await age('app', tag, 40);
    }
    const plan = await service.plan({ repositories: 'app' });
    assert.deepEqual(plan.map((e) => e.tag).sort(), [
      'tmp-frozen',
      'tmp-gone',
      'tmp-moved',
      'tmp-repushed',
    ]);
    await pushImage('app', 'tmp-moved');
    await putManifest('app', 'tmp-repushed', images['tmp-repushed'].body);
    await json(
      await admin('PUT', '/immutability', {
        rules: [
          { repositories: '**', tags: 'v*' },
          { repositories: 'app', tags: 'tmp-frozen' },
        ],
      }),
    );
    const caller: Caller = { name: 'retention-job', kind: 'system', ip: '-', requestId: 'job-1' };
    const result = await service.apply(plan, caller);
    assert.deepEqual(
      result.deleted.map((e) => e.tag),
      ['tmp-gone'],
    );
    assert.deepEqual(result.skipped.map((e) => [e.tag, e.skipped]).sort(), [
      ['tmp-frozen', 'immutable'],
      ['tmp-moved', 'changed'],
      ['tmp-repushed', 'changed'],
    ]);
    assert.equal(result.manifestsDeleted, 1);
    assert.ok((await tags('app')).includes('tmp-moved'));
    assert.ok((await tags('app')).includes('tmp-repushed'));
    const audit = await json<{ events: { principal: string; reference: string }[] }>(
      await admin('GET', '/audit?action=retention.delete&principal=retention-job'),
    );
    assert.deepEqual(audit.events.map((e) => e.reference).sort(), [
      images['tmp-gone'].digest,
      'tmp-gone',
    ]);
  });

  it('evaluates a repository of 100,000 tags in one pass', async () => {
    const now = new Date();
    const repo = await db.query<{ id: string }>(
      `INSERT INTO repositories (name) VALUES ('bulk') RETURNING id::text AS id`,
    );
    const repoId = repo.rows[0].id;
    const manifest = await db.query<{ id: string }>(
      `INSERT INTO manifests (repository_id, digest, media_type, size, content)
       VALUES ($1, $2, $3, 2, $4) RETURNING id::text AS id`,
      [repoId, `sha256:${'0'.repeat(64)}`, OCI_MANIFEST, Buffer.from('{}')],
    );
    const manifestId = manifest.rows[0].id;
    // Tag i was pushed i minutes before `now`: release-* every 10th, pr-* the other even ones,
    // build-* the odd ones; plus 1000 signature tags, which are not counted.
    await db.query(
      `INSERT INTO tags (repository_id, name, manifest_id, updated_at)
       SELECT $1, CASE WHEN i % 10 = 0 THEN 'release-' || i
                       WHEN i % 2 = 0 THEN 'pr-' || i
                       ELSE 'build-' || i END,
              $2, $3::timestamptz - make_interval(mins => i)
         FROM generate_series(1, 100000) AS i`,
      [repoId, manifestId, now.toISOString()],
    );
    await db.query(
      `INSERT INTO tags (repository_id, name, manifest_id, updated_at)
       SELECT $1, 'sha256-' || encode(sha256(i::text::bytea), 'hex') || '.sig', $2,
              $3::timestamptz - make_interval(mins => i)
         FROM generate_series(1, 1000) AS i`,
      [repoId, manifestId, now.toISOString()],
    );
    await db.query('ANALYZE tags');
    const service = registry.running.app.get(RetentionService);

    const started = performance.now();
    const evaluation = await service.evaluateRepository(repoId, 'bulk', now);
    const evaluated = performance.now() - started;

    // pr-* older than 7 days (10,080 minutes) go whatever the recency rules: 35,968 of them.
    // keepDays 30 = 43,200 minutes (inclusive) keeps the rest of tags 1..43200 (the newest 1000
    // as keep_last_n); release-* always stay; of tags 43201..100000, 28,400 build-* go.
    const count = (list: { rule: string }[]): Record<string, number> => {
      const counts: Record<string, number> = {};
      for (const d of list) counts[d.rule] = (counts[d.rule] ?? 0) + 1;
      return counts;
    };
    assert.deepEqual(count(evaluation.delete), {
      'delete_after_days:pr-*:7': 35_968,
      'not_kept:keep_last_n/keep_days': 28_400,
    });
    assert.deepEqual(count(evaluation.keep), {
      'keep_patterns:release-*': 10_000,
      keep_last_n: 900,
      keep_days: 24_732,
    });
    assert.equal(evaluation.attachedTags, 1000);
    assert.equal(evaluation.delete[0]?.tag, 'pr-10082');

    const dryStarted = performance.now();
    const { plan } = await json<{ plan: RetentionPlanEntry[] }>(
      await admin('POST', '/retention/dry-run', { repositories: 'bulk' }),
    );
    const dryRun = performance.now() - dryStarted;
    assert.equal(plan.length, 64_368);
    console.log(
      `# 100,000 tags (+1000 signature tags): evaluateRepository ${evaluated.toFixed(0)} ms, ` +
        `dry run over HTTP ${dryRun.toFixed(0)} ms (${plan.length} tags planned)`,
    );
  });
});

async function repositoryId(name: string): Promise<string> {
  const res = await db.query<{ id: string }>(
    'SELECT id::text AS id FROM repositories WHERE name = $1',
    [name],
  );
  return res.rows[0].id;
}
