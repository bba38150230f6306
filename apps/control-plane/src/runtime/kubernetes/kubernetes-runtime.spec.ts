import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { TenantDeployment } from '../runtime.port';
import { loadKubernetesClient, type KubeConfig, type KubernetesClientModule } from './kube-client';
import type { KubernetesRuntimeConfigInput } from './kubernetes-runtime.config';
import {
  type KubernetesRuntime,
  KubernetesRuntimeError,
  createKubernetesRuntime,
} from './kubernetes-runtime';
import { buildTenantObjects, tenantEndpoints } from './tenant-objects';
import { clusterRoleRules, loadRbacExample } from './testing/rbac-example';
import {
  FakeKubeApiServer,
  type FakeKubeApiServerOptions,
  type RecordedRequest,
} from './testing/fake-kube-apiserver';
import { secretValues, testRuntimeConfig, testTenant } from './testing/tenant-fixtures';

/**
 * The adapter through the real `@kubernetes/client-node` against a fake API server on
 * 127.0.0.1: what goes over the wire, in which order, and how answers become states.
 */

const TOKEN = 'test-token-of-the-control-plane';
const NS = 'berth-acme';

/** The apply requests of one tenant, in the order the adapter must send them. */
const APPLY_PATHS = [
  `/api/v1/namespaces/${NS}`,
  `/api/v1/namespaces/${NS}/resourcequotas/registry-quota`,
  `/apis/networking.k8s.io/v1/namespaces/${NS}/networkpolicies/registry-isolation`,
  `/api/v1/namespaces/${NS}/secrets/registry-credentials`,
  `/api/v1/namespaces/${NS}/services/registry`,
  `/apis/apps/v1/namespaces/${NS}/deployments/registry`,
  `/apis/policy/v1/namespaces/${NS}/poddisruptionbudgets/registry`,
  `/apis/gateway.networking.k8s.io/v1/namespaces/${NS}/httproutes/registry`,
  `/apis/cert-manager.io/v1/namespaces/${NS}/certificates/registry`,
  `/apis/gateway.networking.k8s.io/v1beta1/namespaces/${NS}/referencegrants/gateway-tls`,
];

let client: KubernetesClientModule;

before(async () => {
  client = await loadKubernetesClient();
});

function kubeConfigFor(fake: FakeKubeApiServer, token = TOKEN): KubeConfig {
  const kc = new client.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: fake.url, skipTLSVerify: true }],
    users: [{ name: 'control-plane', token }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'control-plane' }],
    currentContext: 'fake',
  });
  return kc;
}

interface Harness {
  fake: FakeKubeApiServer;
  runtime: KubernetesRuntime;
}

/** A fresh fake API server and an adapter connected to it; both end with the test. */
async function withCluster(
  test: (harness: Harness) => Promise<void>,
  options: {
    server?: Partial<FakeKubeApiServerOptions>;
    runtime?: Partial<KubernetesRuntimeConfigInput>;
    token?: string;
  } = {},
): Promise<void> {
  const fake = await FakeKubeApiServer.start({ token: TOKEN, ...options.server });
  try {
    const runtime = await createKubernetesRuntime(testRuntimeConfig(options.runtime), {
      kubeConfig: kubeConfigFor(fake, options.token),
    });
    await test({ fake, runtime });
    await runtime.close();
  } finally {
    await fake.stop();
  }
}

function applies(requests: RecordedRequest[]): RecordedRequest[] {
  return requests.filter((request) => request.method === 'PATCH');
}

function isDiscovery(request: RecordedRequest): boolean {
  return /^\/(api\/v1|apis\/[^/]+\/[^/]+)$/.test(request.path);
}

function readyStatus(generation: number) {
  return {
    observedGeneration: generation,
    replicas: 1,
    updatedReplicas: 1,
    readyReplicas: 1,
    availableReplicas: 1,
    conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }],
  };
}

describe('KubernetesRuntime against a fake API server', () => {
  it('applies every object with server-side apply, the namespace first, exactly as built', async () => {
    await withCluster(async ({ fake, runtime }) => {
      const tenant = testTenant('acme');
      const endpoints = await runtime.apply(tenant);

      assert.deepEqual(endpoints, tenantEndpoints(tenant, runtime.config));
      assert.deepEqual(endpoints, {
        publicUrl: 'https://acme.registry.example.com',
        adminUrl: 'http://registry.berth-acme.svc.cluster.local:5000',
      });
      assert.deepEqual(fake.violations, []);
      const patches = applies(fake.requests);
      assert.deepEqual(
        patches.map((request) => request.path),
        APPLY_PATHS,
      );
      for (const request of patches) {
        assert.equal(request.contentType, 'application/apply-patch+yaml', request.path);
        assert.deepEqual(request.query, { fieldManager: 'berth-control-plane', force: 'true' });
      }
      // What the server received is what the builder made: nothing lost or renamed on the way
      // through the client's models (its NetworkPolicy model calls `from` `_from`).
      assert.deepEqual(
        patches.map((request) => request.body),
        buildTenantObjects(tenant, runtime.config),
      );
      const policy = fake.get('NetworkPolicy', NS, 'registry-isolation');
      assert.equal(
        (policy?.spec?.ingress as { from: unknown[] }[])[0]?.from.length,
        2,
        'the stored NetworkPolicy admits two namespaces, not everyone',
      );
      // Besides the applies: the ownership check of the namespace and discovery, once per group version.
      assert.deepEqual(
        fake.requests
          .filter((request) => request.method !== 'PATCH')
          .map((r) => `${r.method} ${r.path}`),
        [
          'GET /api/v1',
          `GET /api/v1/namespaces/${NS}`,
          'GET /apis/networking.k8s.io/v1',
          'GET /apis/apps/v1',
          'GET /apis/policy/v1',
          'GET /apis/gateway.networking.k8s.io/v1',
          'GET /apis/cert-manager.io/v1',
          'GET /apis/gateway.networking.k8s.io/v1beta1',
        ],
      );
    });
  });

  it('is idempotent: a second apply sends the same requests and changes nothing', async () => {
    await withCluster(async ({ fake, runtime }) => {
      const tenant = testTenant('acme');
      await runtime.apply(tenant);
      const first = fake.requests.filter((request) => !isDiscovery(request));
      const stored = structuredClone(fake.all());
      fake.requests.length = 0;

      await runtime.apply(testTenant('acme'));

      assert.deepEqual(fake.requests, first, 'the same requests, and no discovery again');
      assert.equal(fake.requests.length, 1 + APPLY_PATHS.length);
      assert.deepEqual(fake.all(), stored, 'same objects, same generations and resource versions');
      assert.equal(fake.get('Deployment', NS, 'registry')?.metadata.generation, 1);
      assert.deepEqual(fake.violations, []);
    });
  });

  it('reports absent, starting, ready and failed from the Deployment and its pods', async () => {
    await withCluster(async ({ fake, runtime }) => {
      const ref = { registryId: testTenant('acme').registryId, name: 'acme' };
      assert.deepEqual(await runtime.status(ref), { state: 'absent', message: null });

      await runtime.apply(testTenant('acme'));
      assert.deepEqual(await runtime.status(ref), {
        state: 'starting',
        message: 'waiting for the Deployment controller to observe the new spec',
      });
      fake.setStatus('Deployment', NS, 'registry', { observedGeneration: 1, replicas: 1 });
      assert.deepEqual(await runtime.status(ref), {
        state: 'starting',
        message: '0/1 replicas available',
      });
      const podsRequest = fake.requests.at(-1);
      assert.equal(podsRequest?.path, `/api/v1/namespaces/${NS}/pods`);
      assert.deepEqual(podsRequest?.query, {
        labelSelector: 'app.kubernetes.io/name=berth-registry,app.kubernetes.io/instance=acme',
      });

      fake.setStatus('Deployment', NS, 'registry', readyStatus(1));
      assert.deepEqual(await runtime.status(ref), { state: 'ready', message: null });

      fake.setStatus('Deployment', NS, 'registry', { observedGeneration: 1, replicas: 1 });
      fake.put({
        kind: 'Pod',
        metadata: {
          name: 'registry-5c7d-x2x9q',
          namespace: NS,
          labels: {
            'app.kubernetes.io/name': 'berth-registry',
            'app.kubernetes.io/instance': 'acme',
          },
        },
        spec: { containers: [{ name: 'registry', image: 'berth/registry' }] },
        status: {
          containerStatuses: [
            {
              name: 'registry',
              image: 'berth/registry',
              imageID: '',
              ready: false,
              restartCount: 5,
              state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 2m40s' } },
              lastState: { terminated: { exitCode: 2, reason: 'Error' } },
            },
          ],
        },
      });
      assert.deepEqual(await runtime.status(ref), {
        state: 'failed',
        message: 'pod registry-5c7d-x2x9q: CrashLoopBackOff: back-off 2m40s; last exit 2 (Error)',
      });

      fake.setStatus('Deployment', NS, 'registry', {
        observedGeneration: 1,
        replicas: 1,
        conditions: [
          {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: 'ReplicaSet "registry-5c7d" has timed out progressing.',
          },
        ],
      });
      assert.deepEqual(await runtime.status(ref), {
        state: 'failed',
        message:
          'rollout failed (ProgressDeadlineExceeded): ReplicaSet "registry-5c7d" has timed out progressing.',
      });
      assert.deepEqual(fake.violations, []);
    });
  });

  it('suspends to zero replicas and resumes', async () => {
    await withCluster(async ({ fake, runtime }) => {
      const ref = { registryId: testTenant('acme').registryId, name: 'acme' };
      await runtime.apply(testTenant('acme'));
      fake.setStatus('Deployment', NS, 'registry', readyStatus(1));
      assert.equal((await runtime.status(ref)).state, 'ready');

      await runtime.apply(testTenant('acme', { suspended: true }));
      const suspended = fake.get('Deployment', NS, 'registry');
      assert.equal(suspended?.spec?.replicas, 0);
      assert.equal(suspended?.metadata.generation, 2);
      assert.deepEqual(await runtime.status(ref), { state: 'suspended', message: null });
      assert.ok(fake.get('Secret', NS, 'registry-credentials'), 'suspension keeps the data');

      await runtime.apply(testTenant('acme'));
      assert.equal(fake.get('Deployment', NS, 'registry')?.spec?.replicas, 1);
      assert.equal((await runtime.status(ref)).state, 'starting', 'generation 3 not observed yet');
      fake.setStatus('Deployment', NS, 'registry', readyStatus(3));
      assert.equal((await runtime.status(ref)).state, 'ready');
    });
  });

  it('removes the namespace with everything in it, and removing again succeeds', async () => {
    await withCluster(async ({ fake, runtime }) => {
      await runtime.apply(testTenant('acme'));
      await runtime.apply(testTenant('globex'));
      const acme = { registryId: testTenant('acme').registryId, name: 'acme' };

      const uid = fake.get('Namespace', undefined, NS)?.metadata.uid;
      await runtime.remove(acme);
      const deletes = fake.requests.filter((request) => request.method === 'DELETE');
      assert.deepEqual(
        deletes.map((request) => [request.path, request.query, request.body]),
        [
          [
            `/api/v1/namespaces/${NS}`,
            { propagationPolicy: 'Background' },
            { preconditions: { uid } },
          ],
        ],
      );
      assert.ok(fake.all().every((object) => !JSON.stringify(object).includes('berth-acme')));
      assert.equal(fake.all().filter((o) => o.metadata.namespace === 'berth-globex').length, 9);
      assert.deepEqual(await runtime.status(acme), { state: 'absent', message: null });

      await runtime.remove(acme);
      assert.equal(
        fake.requests.filter((request) => request.method === 'DELETE').length,
        1,
        'nothing left to delete',
      );
      assert.deepEqual(fake.violations, []);
    });
  });

  it('treats a namespace being deleted as removed, and refuses to apply into it', async () => {
    await withCluster(
      async ({ fake, runtime }) => {
        const acme = { registryId: testTenant('acme').registryId, name: 'acme' };
        await runtime.apply(testTenant('acme'));
        await runtime.remove(acme);
        assert.deepEqual(await runtime.status(acme), {
          state: 'absent',
          message: 'namespace berth-acme is being deleted',
        });
        await runtime.remove(acme); // 409 Conflict: already being deleted
        assert.equal(fake.requests.filter((request) => request.method === 'DELETE').length, 2);
        await assert.rejects(
          runtime.apply(testTenant('acme', { tier: 'business' })),
          (error: unknown) =>
            error instanceof KubernetesRuntimeError &&
            /because it is being terminated/.test(error.message),
        );
        fake.finishTermination(NS);
        assert.deepEqual(await runtime.status(acme), { state: 'absent', message: null });
        await runtime.remove(acme);
      },
      { server: { namespaceDeletion: 'terminating' } },
    );
  });

  it("neither takes over nor deletes a namespace of that name that is not the registry's", async () => {
    await withCluster(async ({ fake, runtime }) => {
      const acme = testTenant('acme');
      const ref = { registryId: acme.registryId, name: 'acme' };
      fake.put({
        kind: 'Namespace',
        metadata: { name: NS, labels: { team: 'someone-else' } },
      });
      await assert.rejects(
        runtime.apply(acme),
        /namespace berth-acme exists and does not belong to registry .*refusing to apply$/,
      );
      assert.deepEqual(await runtime.status(ref), {
        state: 'absent',
        message: `namespace berth-acme exists but belongs to no registry ${acme.registryId}`,
      });
      await assert.rejects(runtime.remove(ref), /refusing to delete it$/);
      assert.deepEqual(
        fake.requests.filter((r) => r.method !== 'GET'),
        [],
        'no apply, no delete',
      );
      assert.deepEqual(fake.get('Namespace', undefined, NS)?.metadata.labels, {
        team: 'someone-else',
      });
    });
  });

  it('needs exactly the permissions of deploy/kubernetes/control-plane-rbac.yaml', async () => {
    await withCluster(async ({ fake, runtime }) => {
      const ref = { registryId: testTenant('acme').registryId, name: 'acme' };
      await runtime.status(ref);
      await runtime.apply(testTenant('acme'));
      fake.setStatus('Deployment', NS, 'registry', { observedGeneration: 1, replicas: 1 });
      assert.equal((await runtime.status(ref)).state, 'starting', 'the pods are listed');
      await runtime.remove(ref);

      const needed = new Set<string>();
      for (const request of fake.requests.filter((r) => !isDiscovery(r))) {
        const match =
          /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)(?:\/namespaces\/[^/]+(?=\/))?\/([^/]+)(\/[^/]+)?$/.exec(
            request.path,
          );
        assert.ok(match, request.path);
        const [, group = '', resource = '', named] = match;
        const verbs =
          request.method === 'PATCH'
            ? ['create', 'patch'] // an apply that creates the object needs both
            : request.method === 'DELETE'
              ? ['delete']
              : [named === undefined ? 'list' : 'get'];
        for (const verb of verbs) needed.add(`${group}/${resource}:${verb}`);
      }
      const granted = new Set(
        clusterRoleRules(loadRbacExample()).flatMap((rule) =>
          rule.apiGroups.flatMap((group) =>
            rule.resources.flatMap((resource) =>
              rule.verbs.map((verb) => `${group}/${resource}:${verb}`),
            ),
          ),
        ),
      );
      assert.deepEqual([...needed].sort(), [...granted].sort());
    });
  });

  it('names a missing CustomResourceDefinition', async () => {
    await withCluster(
      async ({ runtime }) => {
        await assert.rejects(runtime.apply(testTenant('acme')), (error: unknown) => {
          assert.ok(error instanceof KubernetesRuntimeError);
          assert.match(
            error.message,
            /^applying Certificate berth-acme\/registry failed: .*is the CustomResourceDefinition of cert-manager.io\/v1 Certificate installed\?\)$/,
          );
          return true;
        });
      },
      { server: { missingApis: ['cert-manager.io/v1'] } },
    );
    await withCluster(
      async ({ fake, runtime }) => {
        await runtime.apply(testTenant('acme'));
        assert.equal(applies(fake.requests).length, 8, 'no Certificate, no ReferenceGrant');
      },
      {
        server: { missingApis: ['cert-manager.io/v1', 'gateway.networking.k8s.io/v1beta1'] },
        runtime: { certManager: { issuerName: 'letsencrypt', enabled: false } },
      },
    );
  });

  it('reports API errors with the server message and never with secret values', async () => {
    const tenant: TenantDeployment = testTenant('acme');
    await withCluster(
      async ({ runtime }) => {
        await assert.rejects(runtime.apply(tenant), (error: unknown) => {
          assert.ok(error instanceof KubernetesRuntimeError);
          assert.equal(
            error.message,
            'applying Secret berth-acme/registry-credentials failed: 422: Secret "registry-credentials" is invalid',
          );
          for (const value of secretValues(tenant)) {
            assert.ok(!error.message.includes(value));
            assert.ok(!String(error.stack).includes(value));
          }
          return true;
        });
      },
      {
        server: {
          failApply: {
            kind: 'Secret',
            code: 422,
            reason: 'Invalid',
            message: 'Secret "registry-credentials" is invalid',
          },
        },
      },
    );
    await withCluster(
      async ({ runtime }) => {
        await assert.rejects(
          runtime.apply(tenant),
          /reading Namespace berth-acme failed: 401: missing or wrong bearer token$/,
        );
      },
      { token: 'another-token' },
    );
  });
});
