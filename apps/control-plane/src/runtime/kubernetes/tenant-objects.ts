import { createHash } from 'node:crypto';
import type { ICertificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate';
import type { IHTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import type { IReferenceGrant } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1/ReferenceGrant';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { INetworkPolicyEgressRule } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyEgressRule';
import type { INetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { IResourceQuota } from 'kubernetes-models/v1/ResourceQuota';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IService } from 'kubernetes-models/v1/Service';
import { DataPlaneEnv, dataPlaneProcessEnv } from '@berth/platform-contracts';
import type { TenantDeployment, TenantEndpoints, TenantRef } from '../runtime.port';
import {
  DATA_PLANE_SERVICE_NAME,
  TENANT_NAMESPACE_PREFIX,
  isDnsLabel,
  type EgressTarget,
  type KubernetesRuntimeConfig,
} from './kubernetes-runtime.config';

/**
 * The objects of one tenant, built from its deployment and the runtime's configuration: a pure
 * function, so that what the cluster receives is testable without a cluster. Everything lives
 * in the tenant's own namespace, so deleting that namespace removes all of it.
 *
 * The objects are manifests (the API's JSON field names, typed by the `kubernetes-models`
 * interfaces generated from the OpenAPI schemas), not `@kubernetes/client-node` models, whose
 * field names differ in places (`from` is `_from` there).
 */

/** The metadata the adapter sets: name, namespace (unless cluster-scoped), labels, annotations. */
export interface TenantObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A manifest as the adapter applies it: apiVersion, kind and name always set. */
export interface TenantObject {
  apiVersion: string;
  kind: string;
  metadata: TenantObjectMeta;
  [field: string]: unknown;
}

type Manifest<T> = T & TenantObject;

export const Labels = {
  managedBy: 'app.kubernetes.io/managed-by',
  partOf: 'app.kubernetes.io/part-of',
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  registryId: 'berth.dev/registry-id',
  registry: 'berth.dev/registry',
  organisation: 'berth.dev/organisation',
  tier: 'berth.dev/tier',
  /** Set by the API server on every namespace (Kubernetes 1.21+). */
  namespaceName: 'kubernetes.io/metadata.name',
} as const;

/** Pod template annotation: a digest of the Secret, so that changed secrets restart the pods. */
export const SECRET_CHECKSUM_ANNOTATION = 'berth.dev/secrets-checksum';
/** The Secret holding the tenant's credentials (keys are the variables' names). */
export const TENANT_SECRET_NAME = 'registry-credentials';
export const NETWORK_POLICY_NAME = 'registry-isolation';
export const RESOURCE_QUOTA_NAME = 'registry-quota';
export const TLS_SECRET_NAME = 'registry-tls';
export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';

/** Where the data plane keeps local state (read-only root file system: an emptyDir). */
const DATA_DIR = '/var/lib/berth';
/** The image's `node` user (deploy/registry.Dockerfile). */
const DATA_PLANE_UID = 1000;
const REGISTRY_APP_NAME = 'berth-registry';

export class TenantSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TenantSpecError';
  }
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function labelValue(field: string, value: string): string {
  if (value.length > 63 || !LABEL_VALUE.test(value)) {
    throw new TenantSpecError(
      `${field} ${JSON.stringify(value)} cannot be a Kubernetes label value`,
    );
  }
  return value;
}

/** `berth-<name>`; throws when the name cannot make a namespace (a DNS label of 63 at most). */
export function tenantNamespace(name: string): string {
  if (!isDnsLabel(name, 63 - TENANT_NAMESPACE_PREFIX.length)) {
    throw new TenantSpecError(
      `registry name ${JSON.stringify(name)} must be a DNS label of at most ${63 - TENANT_NAMESPACE_PREFIX.length} characters`,
    );
  }
  return `${TENANT_NAMESPACE_PREFIX}${name}`;
}

export function tenantHost(name: string, config: KubernetesRuntimeConfig): string {
  return `${name}.${config.baseDomain}`;
}

export function tenantEndpoints(
  tenant: Pick<TenantRef, 'name'>,
  config: KubernetesRuntimeConfig,
): TenantEndpoints {
  const namespace = tenantNamespace(tenant.name);
  return {
    publicUrl: `https://${tenantHost(tenant.name, config)}`,
    adminUrl: `http://${DATA_PLANE_SERVICE_NAME}.${namespace}.svc.${config.clusterDomain}:${config.dataPlanePort}`,
  };
}

/** The labels selecting the tenant's data-plane pods (never changed once created). */
export function podSelectorLabels(name: string): Record<string, string> {
  return { [Labels.name]: REGISTRY_APP_NAME, [Labels.instance]: name };
}

function tenantLabels(tenant: TenantDeployment): Record<string, string> {
  return {
    [Labels.managedBy]: 'berth-control-plane',
    [Labels.partOf]: 'berth',
    [Labels.registryId]: labelValue('registry id', tenant.registryId),
    [Labels.registry]: tenant.name,
    [Labels.organisation]: labelValue('organisation', tenant.organisation),
    [Labels.tier]: labelValue('tier', tenant.tier),
  };
}

function metadata(
  name: string,
  namespace: string,
  labels: Record<string, string>,
): TenantObjectMeta {
  return { name, namespace, labels: { ...labels } };
}

function base64(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64');
}

function secretData(tenant: TenantDeployment): Record<string, string> {
  const { secrets } = tenant;
  const s3 = secrets.s3;
  if (s3 === undefined) {
    throw new TenantSpecError('the Kubernetes runtime stores blobs on S3: secrets.s3 is required');
  }
  return {
    [DataPlaneEnv.databaseUrl]: secrets.databaseUrl,
    [DataPlaneEnv.adminUser]: secrets.adminUser,
    [DataPlaneEnv.adminPassword]: secrets.adminPassword,
    [DataPlaneEnv.signingKey]: secrets.signingKeyPem,
    S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
  };
}

function fromSecret(key: string): IEnvVar {
  return { name: key, valueFrom: { secretKeyRef: { name: TENANT_SECRET_NAME, key } } };
}

function dataPlaneEnv(tenant: TenantDeployment, config: KubernetesRuntimeConfig): IEnvVar[] {
  const s3 = tenant.secrets.s3;
  const host = tenantHost(tenant.name, config);
  const env: IEnvVar[] = [
    { name: DataPlaneEnv.host, value: '0.0.0.0' },
    { name: DataPlaneEnv.port, value: String(config.dataPlanePort) },
    { name: DataPlaneEnv.dataDir, value: DATA_DIR },
    fromSecret(DataPlaneEnv.databaseUrl),
    fromSecret(DataPlaneEnv.adminUser),
    fromSecret(DataPlaneEnv.adminPassword),
    fromSecret(DataPlaneEnv.signingKey),
    { name: DataPlaneEnv.service, value: host },
    { name: DataPlaneEnv.realm, value: `https://${host}/auth/token` },
    { name: 'REGISTRY_TRUST_PROXY_HOPS', value: String(config.trustProxyHops) },
    { name: 'STORAGE_DRIVER', value: 's3' },
    { name: 'S3_REGION', value: s3?.region ?? '' },
    { name: 'S3_BUCKET', value: s3?.bucket ?? '' },
  ];
  if (s3?.endpoint !== undefined) env.push({ name: 'S3_ENDPOINT', value: s3.endpoint });
  if (s3?.prefix !== undefined) env.push({ name: 'S3_PREFIX', value: s3.prefix });
  env.push(fromSecret('S3_ACCESS_KEY_ID'), fromSecret('S3_SECRET_ACCESS_KEY'));
  // extraEnv first; the process settings extend an operator's NODE_OPTIONS rather than replace it.
  const extra = { ...config.extraEnv, ...dataPlaneProcessEnv(config.extraEnv) };
  for (const [name, value] of Object.entries(extra).sort(([a], [b]) => a.localeCompare(b))) {
    env.push({ name, value });
  }
  return env;
}

function cpu(millis: number): string {
  return `${millis}m`;
}

function memory(mebibytes: number): string {
  return `${mebibytes}Mi`;
}

function checkResources(tenant: TenantDeployment): void {
  const { cpuMillis, memoryMiB, diskBytes } = tenant.resources;
  for (const [field, value] of [
    ['cpuMillis', cpuMillis],
    ['memoryMiB', memoryMiB],
    ['diskBytes', diskBytes],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new TenantSpecError(`resources.${field} must be a positive integer, got ${value}`);
    }
  }
}

function dataPlaneContainer(tenant: TenantDeployment, config: KubernetesRuntimeConfig): IContainer {
  const size = {
    cpu: cpu(tenant.resources.cpuMillis),
    memory: memory(tenant.resources.memoryMiB),
  };
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: 'http' },
    periodSeconds,
    timeoutSeconds: 3,
    failureThreshold,
  });
  return {
    name: 'registry',
    image: config.image,
    imagePullPolicy: config.imagePullPolicy,
    ports: [{ name: 'http', containerPort: config.dataPlanePort, protocol: 'TCP' }],
    env: dataPlaneEnv(tenant, config),
    resources: { requests: { ...size }, limits: { ...size } },
    // Migrations run at start-up: the startup probe gives them up to 5 minutes.
    startupProbe: probe('/healthz', 5, 60),
    livenessProbe: probe('/healthz', 10, 3),
    readinessProbe: probe('/readyz', 5, 3),
    securityContext: {
      runAsNonRoot: true,
      runAsUser: DATA_PLANE_UID,
      runAsGroup: DATA_PLANE_UID,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts: [
      { name: 'data', mountPath: DATA_DIR },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };
}

function egressRule(target: EgressTarget): INetworkPolicyEgressRule {
  const to: INetworkPolicyPeer[] = (target.cidrs ?? []).map((cidr) => ({ ipBlock: { cidr } }));
  if (target.namespace !== undefined) {
    to.push({
      namespaceSelector: { matchLabels: { [Labels.namespaceName]: target.namespace } },
      ...(target.podLabels !== undefined ? { podSelector: { matchLabels: target.podLabels } } : {}),
    });
  }
  const ports = target.ports.flatMap((port) =>
    // DNS answers over UDP and falls back to TCP; the other services are TCP only.
    port === 53
      ? [
          { protocol: 'UDP' as const, port },
          { protocol: 'TCP' as const, port },
        ]
      : [{ protocol: 'TCP' as const, port }],
  );
  return to.length > 0 ? { to, ports } : { ports };
}

/**
 * Every object of the tenant, in apply order: the namespace first, then what constrains pods
 * (quota, network isolation) before anything that creates pods, then the Secret before the
 * Deployment that reads it, then what routes traffic to it.
 */
export function buildTenantObjects(
  tenant: TenantDeployment,
  config: KubernetesRuntimeConfig,
): TenantObject[] {
  const namespace = tenantNamespace(tenant.name);
  const platformNamespaces = [
    config.controlPlaneNamespace,
    config.gateway.namespace,
    ...config.extraIngressNamespaces,
    ...[config.egress.dns, config.egress.postgres, config.egress.s3].flatMap((target) =>
      target.namespace !== undefined ? [target.namespace] : [],
    ),
  ];
  if (platformNamespaces.includes(namespace)) {
    throw new TenantSpecError(
      `registry name ${JSON.stringify(tenant.name)} would make namespace ${namespace}, which the platform uses`,
    );
  }
  checkResources(tenant);
  const labels = tenantLabels(tenant);
  const selector = podSelectorLabels(tenant.name);
  const host = tenantHost(tenant.name, config);
  const replicas = tenant.suspended ? 0 : config.replicas;
  const data = secretData(tenant);
  const checksum = createHash('sha256')
    .update(JSON.stringify(Object.entries(data).sort(([a], [b]) => a.localeCompare(b))))
    .digest('hex')
    .slice(0, 32);

  const ns: Manifest<INamespace> = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: namespace,
      labels: {
        ...labels,
        // The data plane's pods meet the `restricted` Pod Security Standard; nothing else may run.
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'latest',
      },
    },
  };

  // A rolling update runs one extra pod for a while: the quota leaves room for it.
  const podsWithSurge = config.replicas + 1;
  const quota: Manifest<IResourceQuota> = {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: metadata(RESOURCE_QUOTA_NAME, namespace, labels),
    spec: {
      hard: {
        pods: String(podsWithSurge),
        'requests.cpu': cpu(tenant.resources.cpuMillis * podsWithSurge),
        'limits.cpu': cpu(tenant.resources.cpuMillis * podsWithSurge),
        'requests.memory': memory(tenant.resources.memoryMiB * podsWithSurge),
        'limits.memory': memory(tenant.resources.memoryMiB * podsWithSurge),
        // Blobs live on S3 (the data plane enforces the disk quota there); this caps any volume.
        'requests.storage': String(tenant.resources.diskBytes),
        services: '1',
        'services.loadbalancers': '0',
        'services.nodeports': '0',
      },
    },
  };

  const ingressFrom = [
    config.gateway.namespace,
    config.controlPlaneNamespace,
    ...config.extraIngressNamespaces,
  ]
    .filter((value, index, all) => all.indexOf(value) === index)
    .map((name) => ({ namespaceSelector: { matchLabels: { [Labels.namespaceName]: name } } }));
  const networkPolicy: Manifest<INetworkPolicy> = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: metadata(NETWORK_POLICY_NAME, namespace, labels),
    spec: {
      // Every pod of the namespace: nothing in it is reachable or reaches out unless listed here.
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: ingressFrom, ports: [{ protocol: 'TCP', port: config.dataPlanePort }] }],
      egress: [
        egressRule(config.egress.dns),
        egressRule(config.egress.postgres),
        egressRule(config.egress.s3),
      ],
    },
  };

  const secret: Manifest<ISecret> = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metadata(TENANT_SECRET_NAME, namespace, labels),
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, base64(value)])),
  };

  const service: Manifest<IService> = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(DATA_PLANE_SERVICE_NAME, namespace, labels),
    spec: {
      type: 'ClusterIP',
      selector: selector,
      ports: [{ name: 'http', port: config.dataPlanePort, targetPort: 'http', protocol: 'TCP' }],
    },
  };

  const deployment: Manifest<IDeployment> = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(DATA_PLANE_SERVICE_NAME, namespace, labels),
    spec: {
      replicas,
      revisionHistoryLimit: 3,
      progressDeadlineSeconds: 600,
      selector: { matchLabels: selector },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels: { ...labels, ...selector, [Labels.component]: 'data-plane' },
          annotations: { [SECRET_CHECKSUM_ANNOTATION]: checksum },
        },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 30,
          ...(config.imagePullSecrets.length > 0
            ? { imagePullSecrets: config.imagePullSecrets.map((name) => ({ name })) }
            : {}),
          securityContext: {
            runAsNonRoot: true,
            runAsUser: DATA_PLANE_UID,
            runAsGroup: DATA_PLANE_UID,
            fsGroup: DATA_PLANE_UID,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [dataPlaneContainer(tenant, config)],
          volumes: [
            { name: 'data', emptyDir: { sizeLimit: memory(config.scratchMiB) } },
            { name: 'tmp', emptyDir: { sizeLimit: memory(config.scratchMiB) } },
          ],
        },
      },
    },
  };

  const disruptionBudget: Manifest<IPodDisruptionBudget> = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: metadata(DATA_PLANE_SERVICE_NAME, namespace, labels),
    spec: {
      // One pod at a time: keeps N-1 of N serving, and never blocks a node drain at one replica.
      maxUnavailable: 1,
      selector: { matchLabels: selector },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  };

  const route: Manifest<IHTTPRoute> = {
    apiVersion: `${GATEWAY_API_GROUP}/v1`,
    kind: 'HTTPRoute',
    metadata: metadata(DATA_PLANE_SERVICE_NAME, namespace, labels),
    spec: {
      parentRefs: [
        {
          group: GATEWAY_API_GROUP,
          kind: 'Gateway',
          name: config.gateway.name,
          namespace: config.gateway.namespace,
          ...(config.gateway.sectionName !== undefined
            ? { sectionName: config.gateway.sectionName }
            : {}),
        },
      ],
      hostnames: [host],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/' } }],
          backendRefs: [
            { kind: 'Service', name: DATA_PLANE_SERVICE_NAME, port: config.dataPlanePort },
          ],
        },
      ],
    },
  };

  const objects: TenantObject[] = [
    ns,
    quota,
    networkPolicy,
    secret,
    service,
    deployment,
    disruptionBudget,
    route,
  ];

  if (config.certManager.enabled) {
    const certificate: Manifest<ICertificate> = {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: metadata(DATA_PLANE_SERVICE_NAME, namespace, labels),
      spec: {
        secretName: TLS_SECRET_NAME,
        dnsNames: [host],
        issuerRef: {
          name: config.certManager.issuerName,
          kind: config.certManager.issuerKind,
          group: config.certManager.issuerGroup,
        },
        privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
      },
    };
    // The Gateway lives in another namespace: it may read this one TLS Secret, nothing else.
    const grant: Manifest<IReferenceGrant> = {
      apiVersion: `${GATEWAY_API_GROUP}/v1beta1`,
      kind: 'ReferenceGrant',
      metadata: metadata('gateway-tls', namespace, labels),
      spec: {
        from: [{ group: GATEWAY_API_GROUP, kind: 'Gateway', namespace: config.gateway.namespace }],
        to: [{ group: '', kind: 'Secret', name: TLS_SECRET_NAME }],
      },
    };
    objects.push(certificate, grant);
  }
  return objects;
}
