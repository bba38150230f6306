/**
 * Configuration of the Kubernetes runtime adapter: what it creates for each tenant and how it
 * reaches the cluster. `resolveKubernetesRuntimeConfig` fills the defaults and rejects invalid
 * values (all problems at once), so a wrong setting stops the control plane at boot rather
 * than at the first tenant.
 */

/** The name of each tenant's data-plane Service (and Deployment): `registry.berth-<name>`. */
export const DATA_PLANE_SERVICE_NAME = 'registry';
/** The port of the data plane's container and of its Service. */
export const DATA_PLANE_PORT = 5000;
/** The tenant namespace is this prefix and the registry's name. */
export const TENANT_NAMESPACE_PREFIX = 'berth-';
/** The field manager of every server-side apply request. */
export const DEFAULT_FIELD_MANAGER = 'berth-control-plane';

export type ImagePullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/** The Gateway API `Gateway` every tenant's `HTTPRoute` attaches to. */
export interface GatewayParentRef {
  name: string;
  namespace: string;
  /** A listener of that Gateway (`sectionName`); unset: every listener that accepts the route. */
  sectionName?: string;
}

export interface CertManagerSettings {
  /** Create a cert-manager `Certificate` for each tenant's host. */
  enabled: boolean;
  issuerName: string;
  issuerKind: 'Issuer' | 'ClusterIssuer';
  /** `cert-manager.io` for cert-manager's own issuers; another group for external issuers. */
  issuerGroup: string;
}

/**
 * Where a tenant's pods may open connections to (one NetworkPolicy egress rule). With neither
 * `cidrs` nor `namespace`, the listed ports are open to every destination.
 */
export interface EgressTarget {
  ports: number[];
  /** IP blocks (`10.0.12.0/24`, `2001:db8::/64`). */
  cidrs?: string[];
  /** A namespace in the cluster (matched by its `kubernetes.io/metadata.name` label). */
  namespace?: string;
  /** With `namespace`: only the pods carrying these labels. */
  podLabels?: Record<string, string>;
}

export interface EgressSettings {
  /** The cluster DNS; default: pods labelled `k8s-app=kube-dns` in `kube-system`, port 53. */
  dns: EgressTarget;
  /** The PostgreSQL server of the tenants' databases; default: port 5432 anywhere. */
  postgres: EgressTarget;
  /** The S3 endpoint; default: port 443 anywhere. */
  s3: EgressTarget;
}

/** How the adapter reaches the API server. */
export type KubeconfigSource =
  /** The pod's service account (the control plane runs in the cluster). */
  | { mode: 'in-cluster' }
  /** A kubeconfig file, optionally a context of it other than its current one. */
  | { mode: 'file'; path: string; context?: string }
  /** `KUBECONFIG`, then `~/.kube/config`, then the in-cluster service account. */
  | { mode: 'default' };

export interface KubernetesRuntimeConfig {
  /** The data plane's image (`registry.example.com/berth/registry:1.2.3`). */
  image: string;
  imagePullPolicy: ImagePullPolicy;
  /** Names of `kubernetes.io/dockerconfigjson` Secrets; each must exist in every tenant namespace. */
  imagePullSecrets: string[];
  /** Public hosts are `<name>.<baseDomain>`. */
  baseDomain: string;
  gateway: GatewayParentRef;
  certManager: CertManagerSettings;
  /** The namespace of the control plane, the only one besides the gateway's allowed in. */
  controlPlaneNamespace: string;
  /** Further namespaces allowed to reach the data plane's port (e.g. a Prometheus's). */
  extraIngressNamespaces: string[];
  egress: EgressSettings;
  /** The data plane's port (container and Service). */
  dataPlanePort: number;
  /** Pods per running tenant. */
  replicas: number;
  /** Size limit of each of the two scratch volumes (`DATA_DIR` and `/tmp`), MiB. */
  scratchMiB: number;
  /** `REGISTRY_TRUST_PROXY_HOPS`: the gateway is one hop in front of the data plane. */
  trustProxyHops: number;
  /** Suffix of in-cluster service names (`svc.<clusterDomain>`). */
  clusterDomain: string;
  /** Further plain environment variables of the data plane (`LOG_LEVEL`, ...). */
  extraEnv: Record<string, string>;
  fieldManager: string;
  kubeconfig: KubeconfigSource;
}

/** What an operator must give; everything else has a default. */
export type KubernetesRuntimeConfigInput = Pick<
  KubernetesRuntimeConfig,
  'image' | 'baseDomain' | 'gateway' | 'controlPlaneNamespace'
> & {
  certManager?: Partial<CertManagerSettings> & { issuerName: string };
  egress?: Partial<EgressSettings>;
} & Partial<
    Omit<
      KubernetesRuntimeConfig,
      'image' | 'baseDomain' | 'gateway' | 'controlPlaneNamespace' | 'certManager' | 'egress'
    >
  >;

export class KubernetesRuntimeConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid Kubernetes runtime configuration:\n- ${problems.join('\n- ')}`);
    this.name = 'KubernetesRuntimeConfigError';
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Variables the adapter sets itself; `extraEnv` cannot override them. */
const RESERVED_ENV =
  /^(HOST|PORT|DATA_DIR|DATABASE_URL|STORAGE_DRIVER|S3_.*|REGISTRY_(ADMIN_USER|ADMIN_PASSWORD|SIGNING_KEY|AUTH_SERVICE|AUTH_REALM|TRUST_PROXY_HOPS))$/;

export function isDnsLabel(value: string, maxLength = 63): boolean {
  return value.length <= maxLength && DNS_LABEL.test(value);
}

/** A DNS subdomain (RFC 1123): dot-separated labels, 253 characters at most. */
export function isDnsSubdomain(value: string): boolean {
  return value.length <= 253 && value.split('.').every((label) => isDnsLabel(label));
}

function isCidr(value: string): boolean {
  const [address, bits, ...rest] = value.split('/');
  if (rest.length > 0 || address === undefined || bits === undefined || !/^\d+$/.test(bits)) {
    return false;
  }
  const prefix = Number(bits);
  if (/^\d+\.\d+\.\d+\.\d+$/.test(address)) {
    return prefix <= 32 && address.split('.').every((octet) => Number(octet) <= 255);
  }
  return address.includes(':') && /^[0-9a-fA-F:]+$/.test(address) && prefix <= 128;
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

function checkEgress(name: string, target: EgressTarget, problems: string[]): void {
  if (target.ports.length === 0 || !target.ports.every(validPort)) {
    problems.push(`egress.${name}.ports must be one or more ports in 1..65535`);
  }
  for (const cidr of target.cidrs ?? []) {
    if (!isCidr(cidr)) problems.push(`egress.${name}.cidrs: ${JSON.stringify(cidr)} is not a CIDR`);
  }
  if (target.namespace !== undefined && !isDnsLabel(target.namespace)) {
    problems.push(`egress.${name}.namespace must be a namespace name`);
  }
  if (target.podLabels !== undefined && target.namespace === undefined) {
    problems.push(`egress.${name}.podLabels needs egress.${name}.namespace`);
  }
}

export function resolveKubernetesRuntimeConfig(
  settings: KubernetesRuntimeConfigInput,
): KubernetesRuntimeConfig {
  const config: KubernetesRuntimeConfig = {
    image: settings.image,
    imagePullPolicy: settings.imagePullPolicy ?? 'IfNotPresent',
    imagePullSecrets: settings.imagePullSecrets ?? [],
    baseDomain: settings.baseDomain.toLowerCase().replace(/\.$/, ''),
    gateway: settings.gateway,
    certManager: {
      enabled: settings.certManager?.enabled ?? settings.certManager !== undefined,
      issuerName: settings.certManager?.issuerName ?? '',
      issuerKind: settings.certManager?.issuerKind ?? 'ClusterIssuer',
      issuerGroup: settings.certManager?.issuerGroup ?? 'cert-manager.io',
    },
    controlPlaneNamespace: settings.controlPlaneNamespace,
    extraIngressNamespaces: settings.extraIngressNamespaces ?? [],
    egress: {
      dns: settings.egress?.dns ?? {
        ports: [53],
        namespace: 'kube-system',
        podLabels: { 'k8s-app': 'kube-dns' },
      },
      postgres: settings.egress?.postgres ?? { ports: [5432] },
      s3: settings.egress?.s3 ?? { ports: [443] },
    },
    dataPlanePort: settings.dataPlanePort ?? DATA_PLANE_PORT,
    replicas: settings.replicas ?? 1,
    scratchMiB: settings.scratchMiB ?? 1024,
    trustProxyHops: settings.trustProxyHops ?? 1,
    clusterDomain: settings.clusterDomain ?? 'cluster.local',
    extraEnv: settings.extraEnv ?? {},
    fieldManager: settings.fieldManager ?? DEFAULT_FIELD_MANAGER,
    kubeconfig: settings.kubeconfig ?? { mode: 'default' },
  };

  const problems: string[] = [];
  if (config.image.trim() === '' || /\s/.test(config.image)) {
    problems.push('image must be an image reference without spaces');
  }
  if (!isDnsSubdomain(config.baseDomain) || !config.baseDomain.includes('.')) {
    problems.push(`baseDomain ${JSON.stringify(config.baseDomain)} is not a DNS name`);
  }
  if (!isDnsSubdomain(config.gateway.name)) problems.push('gateway.name must be an object name');
  if (!isDnsLabel(config.gateway.namespace)) {
    problems.push('gateway.namespace must be a namespace name');
  }
  if (config.gateway.sectionName !== undefined && !isDnsSubdomain(config.gateway.sectionName)) {
    problems.push('gateway.sectionName must be a listener name');
  }
  if (config.certManager.enabled && !isDnsSubdomain(config.certManager.issuerName)) {
    problems.push('certManager.issuerName must name the issuer when certificates are enabled');
  }
  for (const namespace of [config.controlPlaneNamespace, ...config.extraIngressNamespaces]) {
    if (!isDnsLabel(namespace)) {
      problems.push(`${JSON.stringify(namespace)} is not a namespace name`);
    }
  }
  for (const secret of config.imagePullSecrets) {
    if (!isDnsSubdomain(secret)) problems.push(`imagePullSecrets: ${JSON.stringify(secret)}`);
  }
  checkEgress('dns', config.egress.dns, problems);
  checkEgress('postgres', config.egress.postgres, problems);
  checkEgress('s3', config.egress.s3, problems);
  if (!validPort(config.dataPlanePort)) problems.push('dataPlanePort must be in 1..65535');
  if (!Number.isInteger(config.replicas) || config.replicas < 1 || config.replicas > 20) {
    problems.push('replicas must be an integer in 1..20');
  }
  if (!Number.isInteger(config.scratchMiB) || config.scratchMiB < 16) {
    problems.push('scratchMiB must be an integer of at least 16');
  }
  if (!Number.isInteger(config.trustProxyHops) || config.trustProxyHops < 0) {
    problems.push('trustProxyHops must be a non-negative integer');
  }
  if (!isDnsSubdomain(config.clusterDomain)) problems.push('clusterDomain must be a DNS name');
  for (const name of Object.keys(config.extraEnv)) {
    if (!ENV_NAME.test(name)) problems.push(`extraEnv: ${JSON.stringify(name)} is not a name`);
    else if (RESERVED_ENV.test(name)) problems.push(`extraEnv: ${name} is set by the runtime`);
  }
  if (config.fieldManager.trim() === '' || config.fieldManager.length > 128) {
    problems.push('fieldManager must have 1..128 characters');
  }
  if (config.kubeconfig.mode === 'file' && config.kubeconfig.path.trim() === '') {
    problems.push('kubeconfig.path must name a file');
  }
  if (problems.length > 0) throw new KubernetesRuntimeConfigError(problems);
  return config;
}
