import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Certificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { ReferenceGrant } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1/ReferenceGrant';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import {
  NetworkPolicy,
  type INetworkPolicy,
} from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ResourceQuota, type IResourceQuota } from 'kubernetes-models/v1/ResourceQuota';
import { Secret, type ISecret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import type { ICertificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate';
import type { IHTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { DataPlaneEnv } from '@berth/platform-contracts';
import type { TenantDeployment } from '../runtime.port';
import {
  KubernetesRuntimeConfigError,
  isDnsLabel,
  isDnsSubdomain,
  type KubernetesRuntimeConfig,
} from './kubernetes-runtime.config';
import {
  SECRET_CHECKSUM_ANNOTATION,
  TenantSpecError,
  buildTenantObjects,
  tenantEndpoints,
  type TenantObject,
} from './tenant-objects';
import { secretValues, testRuntimeConfig, testTenant } from './testing/tenant-fixtures';

/** The schema model of each kind we create; `validate()` checks against the OpenAPI schema. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  Namespace,
  ResourceQuota,
  NetworkPolicy,
  Secret,
  Service,
  Deployment,
  PodDisruptionBudget,
  HTTPRoute,
  Certificate,
  ReferenceGrant,
};

function validate(object: TenantObject): void {
  const Model = MODELS[object.kind];
  assert.ok(Model, `no schema model for ${object.kind}`);
  new Model(structuredClone(object) as never).validate();
}

function find<T>(objects: TenantObject[], kind: string): T {
  const found = objects.filter((object) => object.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0] as T;
}

function container(objects: TenantObject[]): IContainer {
  const deployment = find<IDeployment>(objects, 'Deployment');
  const containers = deployment.spec?.template.spec?.containers ?? [];
  assert.equal(containers.length, 1);
  return containers[0];
}

function envOf(objects: TenantObject[]): Map<string, NonNullable<IContainer['env']>[number]> {
  return new Map((container(objects).env ?? []).map((variable) => [variable.name, variable]));
}

const config = testRuntimeConfig();
const acme = testTenant('acme');

describe('buildTenantObjects', () => {
  it('builds objects that are valid against the Kubernetes, Gateway API and cert-manager schemas', () => {
    const variants: [string, TenantDeployment, KubernetesRuntimeConfig][] = [
      ['default', acme, config],
      ['suspended', testTenant('acme', { suspended: true }), config],
      [
        'no certificates',
        acme,
        testRuntimeConfig({ certManager: { issuerName: 'x', enabled: false } }),
      ],
      [
        'egress by CIDR and namespace, pull secrets, extra env, listener',
        acme,
        testRuntimeConfig({
          egress: {
            postgres: { ports: [5432], cidrs: ['10.20.0.0/16', '2001:db8::/64'] },
            s3: { ports: [9000], namespace: 'minio', podLabels: { app: 'minio' } },
          },
          imagePullSecrets: ['berth-pull'],
          extraEnv: { LOG_LEVEL: 'debug' },
          gateway: { name: 'public', namespace: 'gateway-system', sectionName: 'https' },
          replicas: 3,
        }),
      ],
    ];
    for (const [label, tenant, runtimeConfig] of variants) {
      const objects = buildTenantObjects(tenant, runtimeConfig);
      for (const object of objects) {
        assert.doesNotThrow(() => validate(object), `${label}: ${object.kind}`);
      }
    }
    assert.deepEqual(
      buildTenantObjects(acme, config).map((object) => object.kind),
      [
        'Namespace',
        'ResourceQuota',
        'NetworkPolicy',
        'Secret',
        'Service',
        'Deployment',
        'PodDisruptionBudget',
        'HTTPRoute',
        'Certificate',
        'ReferenceGrant',
      ],
      'the namespace first; quota and isolation before pods; the Secret before the Deployment',
    );
  });

  it('uses schema validators that do reject a broken object', () => {
    const objects = buildTenantObjects(acme, config);
    const deployment = structuredClone(find<IDeployment>(objects, 'Deployment')) as unknown as {
      spec: { replicas: unknown };
    };
    deployment.spec.replicas = 'one';
    assert.throws(() => new Deployment(deployment as never).validate(), /replicas must be integer/);
    const route = structuredClone(find<IHTTPRoute>(objects, 'HTTPRoute'));
    route.spec.hostnames = ['Not_A_Host'];
    assert.throws(() => new HTTPRoute(route).validate(), /hostnames/);
    const certificate = structuredClone(find<ICertificate>(objects, 'Certificate')) as unknown as {
      spec: Record<string, unknown>;
    };
    delete certificate.spec.issuerRef;
    assert.throws(() => new Certificate(certificate as never).validate(), /issuerRef/);
  });

  it('keeps every object in the tenant namespace with valid names and the tenant labels', () => {
    const objects = buildTenantObjects(acme, config);
    for (const object of objects) {
      assert.ok(
        isDnsSubdomain(object.metadata.name),
        `${object.kind} name ${object.metadata.name}`,
      );
      if (object.kind === 'Namespace') {
        assert.equal(object.metadata.name, 'berth-acme');
        assert.equal(object.metadata.namespace, undefined);
        assert.ok(isDnsLabel(object.metadata.name));
      } else {
        assert.equal(object.metadata.namespace, 'berth-acme', object.kind);
      }
      assert.equal(object.metadata.labels?.['berth.dev/registry-id'], acme.registryId, object.kind);
      assert.equal(object.metadata.labels?.['berth.dev/organisation'], 'acme-corp', object.kind);
      assert.equal(object.metadata.labels?.['berth.dev/tier'], 'team', object.kind);
      assert.equal(object.metadata.labels?.['app.kubernetes.io/managed-by'], 'berth-control-plane');
    }
    const namespace = find<TenantObject>(objects, 'Namespace');
    assert.equal(namespace.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
  });

  it("never mentions another tenant's name, id or secrets", () => {
    const globex = testTenant('globex');
    const acmeJson = JSON.stringify(buildTenantObjects(acme, config));
    const globexJson = JSON.stringify(buildTenantObjects(globex, config));
    for (const value of [
      globex.name,
      globex.registryId,
      globex.organisation,
      ...secretValues(globex),
    ]) {
      assert.ok(!acmeJson.includes(value), `acme's objects mention ${value}`);
    }
    for (const value of [acme.name, acme.registryId, acme.organisation, ...secretValues(acme)]) {
      assert.ok(!globexJson.includes(value), `globex's objects mention ${value}`);
    }
  });

  it('isolates the namespace: all pods, ingress only from the gateway and the control plane', () => {
    const policy = find<INetworkPolicy>(buildTenantObjects(acme, config), 'NetworkPolicy');
    const spec = policy.spec!;
    assert.deepEqual(spec.podSelector, {}, 'selects every pod of the namespace');
    assert.deepEqual(spec.policyTypes, ['Ingress', 'Egress']);
    assert.deepEqual(spec.ingress, [
      {
        from: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'gateway-system' } },
          },
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'berth-system' } } },
        ],
        ports: [{ protocol: 'TCP', port: 5000 }],
      },
    ]);
    assert.deepEqual(spec.egress, [
      {
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
            podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          },
        ],
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      },
      { ports: [{ protocol: 'TCP', port: 5432 }] },
      { ports: [{ protocol: 'TCP', port: 443 }] },
    ]);
    for (const rule of spec.egress ?? []) {
      assert.ok((rule.ports ?? []).length > 0, 'no egress rule opens every port');
    }

    const narrowed = find<INetworkPolicy>(
      buildTenantObjects(
        acme,
        testRuntimeConfig({
          egress: {
            postgres: { ports: [5432], cidrs: ['10.20.0.0/16'] },
            s3: { ports: [9000], namespace: 'minio' },
          },
          extraIngressNamespaces: ['monitoring'],
        }),
      ),
      'NetworkPolicy',
    );
    assert.deepEqual(narrowed.spec!.egress?.[1], {
      to: [{ ipBlock: { cidr: '10.20.0.0/16' } }],
      ports: [{ protocol: 'TCP', port: 5432 }],
    });
    assert.deepEqual(narrowed.spec!.egress?.[2], {
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'minio' } } }],
      ports: [{ protocol: 'TCP', port: 9000 }],
    });
    assert.equal(narrowed.spec!.ingress?.[0]?.from?.length, 3);
  });

  it('passes secrets through the Secret only, by secretKeyRef', () => {
    const objects = buildTenantObjects(acme, config);
    const deploymentJson = JSON.stringify(find<IDeployment>(objects, 'Deployment'));
    for (const value of secretValues(acme)) {
      assert.ok(!deploymentJson.includes(value), `the Deployment carries a secret literally`);
    }
    const secret = find<ISecret>(objects, 'Secret');
    const decoded = Object.fromEntries(
      Object.entries(secret.data ?? {}).map(([key, value]) => [
        key,
        Buffer.from(value, 'base64').toString('utf8'),
      ]),
    );
    assert.deepEqual(decoded, {
      DATABASE_URL: acme.secrets.databaseUrl,
      REGISTRY_ADMIN_USER: acme.secrets.adminUser,
      REGISTRY_ADMIN_PASSWORD: acme.secrets.adminPassword,
      REGISTRY_SIGNING_KEY: acme.secrets.signingKeyPem,
      S3_ACCESS_KEY_ID: acme.secrets.s3?.accessKeyId,
      S3_SECRET_ACCESS_KEY: acme.secrets.s3?.secretAccessKey,
    });
    const env = envOf(objects);
    for (const key of Object.keys(decoded)) {
      assert.deepEqual(
        env.get(key),
        { name: key, valueFrom: { secretKeyRef: { name: secret.metadata?.name, key } } },
        key,
      );
    }
  });

  it('sets the variables the data plane reads for S3 storage, auth and its listener', () => {
    const env = envOf(buildTenantObjects(acme, config));
    const plain = (name: string) => env.get(name)?.value;
    assert.equal(plain(DataPlaneEnv.host), '0.0.0.0');
    assert.equal(plain(DataPlaneEnv.port), '5000');
    assert.equal(plain('STORAGE_DRIVER'), 's3');
    assert.equal(plain('S3_ENDPOINT'), 'https://s3.example.net');
    assert.equal(plain('S3_REGION'), 'eu-west-1');
    assert.equal(plain('S3_BUCKET'), 'berth-blobs');
    assert.equal(plain('S3_PREFIX'), 'tenants/acme');
    assert.equal(plain(DataPlaneEnv.service), 'acme.registry.example.com');
    assert.equal(plain(DataPlaneEnv.realm), 'https://acme.registry.example.com/auth/token');
    assert.equal(plain('REGISTRY_TRUST_PROXY_HOPS'), '1');
    assert.equal(plain('NODE_OPTIONS'), '--max-semi-space-size=4');
    assert.equal(plain('GLIBC_TUNABLES'), 'glibc.malloc.mmap_threshold=131072');
    const tuned = envOf(
      buildTenantObjects(
        acme,
        testRuntimeConfig({ extraEnv: { NODE_OPTIONS: '--trace-warnings' } }),
      ),
    );
    assert.equal(tuned.get('NODE_OPTIONS')?.value, '--trace-warnings --max-semi-space-size=4');
    const dataDir = plain(DataPlaneEnv.dataDir);
    assert.ok(
      container(buildTenantObjects(acme, config)).volumeMounts?.some(
        (m) => m.mountPath === dataDir,
      ),
      'DATA_DIR is a mounted (writable) volume',
    );

    const aws = testTenant('acme');
    delete aws.secrets.s3!.endpoint;
    delete aws.secrets.s3!.prefix;
    const awsEnv = envOf(buildTenantObjects(aws, config));
    assert.equal(awsEnv.has('S3_ENDPOINT'), false);
    assert.equal(awsEnv.has('S3_PREFIX'), false);
  });

  it('runs non-root on a read-only root file system with probes on /healthz and /readyz', () => {
    const objects = buildTenantObjects(acme, config);
    const deployment = find<IDeployment>(objects, 'Deployment');
    const pod = deployment.spec!.template.spec!;
    const main = container(objects);
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(main.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(main.securityContext?.allowPrivilegeEscalation, false);
    assert.deepEqual(main.securityContext?.capabilities, { drop: ['ALL'] });
    assert.deepEqual(
      pod.volumes?.map((volume) => [volume.name, volume.emptyDir?.sizeLimit]),
      [
        ['data', '1024Mi'],
        ['tmp', '1024Mi'],
      ],
    );
    assert.deepEqual(
      main.volumeMounts?.map((mount) => mount.mountPath),
      ['/var/lib/berth', '/tmp'],
    );
    assert.equal(main.livenessProbe?.httpGet?.path, '/healthz');
    assert.equal(main.startupProbe?.httpGet?.path, '/healthz');
    assert.equal(main.readinessProbe?.httpGet?.path, '/readyz');
    assert.equal(main.readinessProbe?.httpGet?.port, 'http');
    assert.deepEqual(main.ports, [{ name: 'http', containerPort: 5000, protocol: 'TCP' }]);
    assert.equal(main.image, 'registry.example.com/berth/registry:1.4.2');
  });

  it('runs no replica while suspended and changes nothing else', () => {
    const running = buildTenantObjects(acme, config);
    const suspended = buildTenantObjects(testTenant('acme', { suspended: true }), config);
    assert.equal(find<IDeployment>(running, 'Deployment').spec?.replicas, 1);
    assert.equal(find<IDeployment>(suspended, 'Deployment').spec?.replicas, 0);
    const withoutReplicas = (objects: TenantObject[]) =>
      objects.map((object) => {
        const copy = structuredClone(object) as TenantObject & { spec?: { replicas?: number } };
        if (copy.kind === 'Deployment') delete copy.spec?.replicas;
        return copy;
      });
    assert.deepEqual(withoutReplicas(suspended), withoutReplicas(running));
    assert.equal(
      find<IDeployment>(buildTenantObjects(acme, testRuntimeConfig({ replicas: 3 })), 'Deployment')
        .spec?.replicas,
      3,
    );
  });

  it('sizes the container and the quota from the tier', () => {
    const small = testTenant('acme', {
      tier: 'free',
      resources: { cpuMillis: 250, memoryMiB: 256, diskBytes: 5 * 1024 ** 3 },
    });
    const large = testTenant('acme', {
      tier: 'business',
      resources: { cpuMillis: 2000, memoryMiB: 4096, diskBytes: 500 * 1024 ** 3 },
    });
    for (const [tenant, cpu, memory] of [
      [small, '250m', '256Mi'],
      [large, '2000m', '4096Mi'],
    ] as const) {
      const objects = buildTenantObjects(tenant, testRuntimeConfig({ replicas: 2 }));
      assert.deepEqual(container(objects).resources, {
        requests: { cpu, memory },
        limits: { cpu, memory },
      });
      const quota = find<IResourceQuota>(objects, 'ResourceQuota').spec?.hard ?? {};
      // Two replicas and one surge pod during a rolling update.
      assert.equal(quota.pods, '3');
      assert.equal(quota['limits.cpu'], `${tenant.resources.cpuMillis * 3}m`);
      assert.equal(quota['requests.cpu'], `${tenant.resources.cpuMillis * 3}m`);
      assert.equal(quota['limits.memory'], `${tenant.resources.memoryMiB * 3}Mi`);
      assert.equal(quota['requests.memory'], `${tenant.resources.memoryMiB * 3}Mi`);
      assert.equal(quota['requests.storage'], String(tenant.resources.diskBytes));
      assert.equal(
        find<TenantObject>(objects, 'Namespace').metadata.labels?.['berth.dev/tier'],
        tenant.tier,
      );
    }
  });

  it('routes <name>.<baseDomain> through the configured Gateway, with a certificate when enabled', () => {
    const objects = buildTenantObjects(acme, config);
    const route = find<IHTTPRoute>(objects, 'HTTPRoute');
    assert.deepEqual(route.spec?.hostnames, ['acme.registry.example.com']);
    assert.deepEqual(route.spec?.parentRefs, [
      {
        group: 'gateway.networking.k8s.io',
        kind: 'Gateway',
        name: 'public',
        namespace: 'gateway-system',
      },
    ]);
    assert.deepEqual(route.spec?.rules?.[0]?.backendRefs, [
      { kind: 'Service', name: 'registry', port: 5000 },
    ]);
    const certificate = find<ICertificate>(objects, 'Certificate');
    assert.deepEqual(certificate.spec?.dnsNames, ['acme.registry.example.com']);
    assert.deepEqual(certificate.spec?.issuerRef, {
      name: 'letsencrypt',
      kind: 'ClusterIssuer',
      group: 'cert-manager.io',
    });
    const withoutCertificates = buildTenantObjects(
      acme,
      testRuntimeConfig({ certManager: { issuerName: 'letsencrypt', enabled: false } }),
    );
    assert.ok(
      !withoutCertificates.some((o) => o.kind === 'Certificate' || o.kind === 'ReferenceGrant'),
    );
    assert.deepEqual(tenantEndpoints(acme, config), {
      publicUrl: 'https://acme.registry.example.com',
      adminUrl: 'http://registry.berth-acme.svc.cluster.local:5000',
    });
  });

  it('is deterministic, and a changed secret changes the pod template (a rollout)', () => {
    assert.deepEqual(
      buildTenantObjects(acme, config),
      buildTenantObjects(testTenant('acme'), config),
    );
    const rotated = testTenant('acme');
    rotated.secrets.adminPassword = 'a-new-password';
    const checksum = (tenant: TenantDeployment) =>
      find<IDeployment>(buildTenantObjects(tenant, config), 'Deployment').spec?.template.metadata
        ?.annotations?.[SECRET_CHECKSUM_ANNOTATION];
    assert.match(checksum(acme) ?? '', /^[0-9a-f]{32}$/);
    assert.notEqual(checksum(rotated), checksum(acme));
  });

  it('refuses what cannot become a tenant on Kubernetes', () => {
    const refused: [string, TenantDeployment][] = [
      ['upper case', testTenant('Acme')],
      ['too long for a namespace', testTenant('a'.repeat(58))],
      ['no S3', { ...testTenant('acme'), secrets: { ...acme.secrets, s3: undefined } }],
      ['bad label', testTenant('acme', { organisation: 'Acme Corp' })],
      ["the control plane's namespace", testTenant('system')],
      [
        'no memory',
        testTenant('acme', { resources: { cpuMillis: 100, memoryMiB: 0, diskBytes: 1 } }),
      ],
    ];
    for (const [label, tenant] of refused) {
      assert.throws(() => buildTenantObjects(tenant, config), TenantSpecError, label);
    }
    assert.equal(
      buildTenantObjects(testTenant('a'.repeat(57)), config)[0]?.metadata.name.length,
      63,
    );
  });
});

describe('resolveKubernetesRuntimeConfig', () => {
  it('fills the defaults', () => {
    assert.deepEqual(config.egress.postgres, { ports: [5432] });
    assert.equal(config.dataPlanePort, 5000);
    assert.equal(config.certManager.enabled, true);
    assert.deepEqual(config.kubeconfig, { mode: 'default' });
    assert.equal(
      testRuntimeConfig({ certManager: undefined }).certManager.enabled,
      false,
      'no certificates unless an issuer is given',
    );
  });

  it('reports every wrong value at once', () => {
    try {
      testRuntimeConfig({
        baseDomain: 'not a domain',
        gateway: { name: 'public', namespace: 'Gateway' },
        replicas: 0,
        extraEnv: { DATABASE_URL: 'postgres://elsewhere', 'BAD-NAME': 'x' },
        egress: { postgres: { ports: [0], cidrs: ['10.0.0.0/33'] } },
      });
    } catch (error) {
      assert.ok(error instanceof KubernetesRuntimeConfigError);
      assert.deepEqual(error.problems, [
        'baseDomain "not a domain" is not a DNS name',
        'gateway.namespace must be a namespace name',
        'egress.postgres.ports must be one or more ports in 1..65535',
        'egress.postgres.cidrs: "10.0.0.0/33" is not a CIDR',
        'replicas must be an integer in 1..20',
        'extraEnv: DATABASE_URL is set by the runtime',
        'extraEnv: "BAD-NAME" is not a name',
      ]);
      return;
    }
    assert.fail('the configuration was accepted');
  });
});
