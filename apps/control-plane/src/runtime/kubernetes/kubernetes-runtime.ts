import type {
  KubernetesObject,
  V1Deployment,
  V1Namespace,
  V1Pod,
} from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import type {
  RuntimeKind,
  RuntimeStatus,
  TenantDeployment,
  TenantEndpoints,
  TenantRef,
  TenantRuntime,
} from '../runtime.port';
import {
  apiErrorMessage,
  apiStatusCode,
  kubeConfigFrom,
  loadKubernetesClient,
  type KubeConfig,
  type KubernetesClientModule,
  type KubernetesObjectApi,
} from './kube-client';
import {
  DATA_PLANE_SERVICE_NAME,
  resolveKubernetesRuntimeConfig,
  type KubernetesRuntimeConfig,
  type KubernetesRuntimeConfigInput,
} from './kubernetes-runtime.config';
import {
  Labels,
  buildTenantObjects,
  podSelectorLabels,
  tenantEndpoints,
  tenantNamespace,
  type TenantObject,
} from './tenant-objects';
import { tenantStatusFrom } from './tenant-status';

/** `Content-Type` of a server-side apply request (`PatchStrategy.ServerSideApply`). */
const SERVER_SIDE_APPLY = 'application/apply-patch+yaml';

/** True when the namespace was created by the control plane for this registry. */
function ownedBy(namespace: V1Namespace, registryId: string): boolean {
  return namespace.metadata?.labels?.[Labels.registryId] === registryId;
}

export class KubernetesRuntimeError extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'KubernetesRuntimeError';
  }
}

/**
 * The tenant runtime on Kubernetes: each tenant is a namespace `berth-<name>` holding its data
 * plane (see `buildTenantObjects`), written with server-side apply under one field manager, so
 * applying the same tenant again changes nothing and a changed tenant (tier, suspension,
 * secrets) is updated in place. Removing deletes the namespace, which deletes everything in it.
 */
export class KubernetesRuntime implements TenantRuntime {
  readonly kind: RuntimeKind = 'kubernetes';
  private readonly api: KubernetesObjectApi;

  constructor(
    readonly config: KubernetesRuntimeConfig,
    private readonly client: KubernetesClientModule,
    kubeConfig: KubeConfig,
  ) {
    this.api = client.KubernetesObjectApi.makeApiClient(kubeConfig);
  }

  async apply(tenant: TenantDeployment): Promise<TenantEndpoints> {
    const objects = buildTenantObjects(tenant, this.config);
    // Server-side apply with force would take over any namespace of that name: only a new one,
    // or one this registry already owns, is written to.
    const existing = await this.readNamespace(tenant.name);
    if (existing !== null && !ownedBy(existing, tenant.registryId)) {
      throw new KubernetesRuntimeError(
        `namespace ${tenantNamespace(tenant.name)} exists and does not belong to registry ${tenant.registryId} (label ${Labels.registryId}); refusing to apply`,
      );
    }
    for (const object of objects) {
      await this.serverSideApply(object);
    }
    return tenantEndpoints(tenant, this.config);
  }

  async status(tenant: TenantRef): Promise<RuntimeStatus> {
    const namespace = tenantNamespace(tenant.name);
    const ns = await this.readNamespace(tenant.name);
    if (ns !== null && !ownedBy(ns, tenant.registryId)) {
      return {
        state: 'absent',
        message: `namespace ${namespace} exists but belongs to no registry ${tenant.registryId}`,
      };
    }
    const deployment =
      ns === null
        ? null
        : await this.readOrNull<V1Deployment>({
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: DATA_PLANE_SERVICE_NAME, namespace },
          });
    const status = tenantStatusFrom({ namespace: ns, deployment, pods: [] });
    if (status.state !== 'starting') return status;
    // Not ready yet: the pods tell whether it never will be (crash loop, image pull, config).
    return tenantStatusFrom({
      namespace: ns,
      deployment,
      pods: await this.listPods(namespace, tenant.name),
    });
  }

  async remove(tenant: TenantRef): Promise<void> {
    const name = tenantNamespace(tenant.name);
    const ns = await this.readNamespace(tenant.name);
    if (ns === null) return;
    if (!ownedBy(ns, tenant.registryId)) {
      throw new KubernetesRuntimeError(
        `namespace ${name} does not belong to registry ${tenant.registryId} (label ${Labels.registryId}); refusing to delete it`,
      );
    }
    try {
      // The UID precondition: never a namespace of the same name created since it was read.
      await this.api.delete(
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
        undefined,
        undefined,
        undefined,
        undefined,
        'Background',
        { preconditions: { uid: ns.metadata?.uid } },
      );
    } catch (error) {
      const code = apiStatusCode(error);
      // 404: already gone. 409: already being deleted (the namespace controller finishes it),
      // or replaced since it was read (then not ours to delete).
      if (code === 404 || code === 409) return;
      throw new KubernetesRuntimeError(
        `deleting namespace ${name} failed: ${apiErrorMessage(error)}`,
        { cause: error },
      );
    }
  }

  close(): Promise<void> {
    // No watch or connection is held between calls.
    return Promise.resolve();
  }

  private async serverSideApply(object: TenantObject): Promise<void> {
    try {
      // The client serializes its own models (`from` is `_from` there): loading the manifest
      // through `loadYaml` (JSON is YAML) turns it into that model, which it sends back as is.
      const model = this.client.loadYaml<KubernetesObject>(JSON.stringify(object));
      await this.api.patch(
        model,
        undefined,
        undefined,
        this.config.fieldManager,
        true,
        SERVER_SIDE_APPLY,
      );
    } catch (error) {
      const where = `${object.kind} ${object.metadata.namespace ?? ''}${object.metadata.namespace !== undefined ? '/' : ''}${object.metadata.name}`;
      const message = apiErrorMessage(error);
      // Discovery of the kind's API group answered 404, or listed no such kind.
      const raw = error instanceof Error ? error.message : '';
      const unknownKind =
        raw.includes('Unrecognized API version and kind') ||
        (raw.includes('Failed to fetch resource metadata') && apiStatusCode(error) === 404);
      const hint = unknownKind
        ? ` (is the CustomResourceDefinition of ${object.apiVersion} ${object.kind} installed?)`
        : '';
      throw new KubernetesRuntimeError(`applying ${where} failed: ${message}${hint}`, {
        cause: error,
      });
    }
  }

  private readNamespace(name: string): Promise<V1Namespace | null> {
    return this.readOrNull<V1Namespace>({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: tenantNamespace(name) },
    });
  }

  private async readOrNull<T extends V1Namespace | V1Deployment>(
    header: TenantObject,
  ): Promise<T | null> {
    try {
      return await this.api.read<T>(header);
    } catch (error) {
      if (apiStatusCode(error) === 404) return null;
      throw new KubernetesRuntimeError(
        `reading ${header.kind} ${header.metadata.name} failed: ${apiErrorMessage(error)}`,
        { cause: error },
      );
    }
  }

  private async listPods(namespace: string, name: string): Promise<V1Pod[]> {
    const selector = Object.entries(podSelectorLabels(name))
      .map(([key, value]) => `${key}=${value}`)
      .join(',');
    try {
      const list = await this.api.list<V1Pod>(
        'v1',
        'Pod',
        namespace,
        undefined,
        undefined,
        undefined,
        undefined,
        selector,
      );
      return list.items;
    } catch (error) {
      if (apiStatusCode(error) === 404) return [];
      throw new KubernetesRuntimeError(
        `listing the pods of ${namespace} failed: ${apiErrorMessage(error)}`,
        { cause: error },
      );
    }
  }
}

export interface CreateKubernetesRuntimeOptions {
  /** A ready `KubeConfig` instead of `config.kubeconfig` (tests, embedding). */
  kubeConfig?: KubeConfig;
}

/**
 * Validates the settings, loads `@kubernetes/client-node` and connects the adapter (no request
 * is sent until the first call).
 */
export async function createKubernetesRuntime(
  settings: KubernetesRuntimeConfigInput,
  options: CreateKubernetesRuntimeOptions = {},
): Promise<KubernetesRuntime> {
  const config = resolveKubernetesRuntimeConfig(settings);
  const client = await loadKubernetesClient();
  const kubeConfig = options.kubeConfig ?? kubeConfigFrom(client, config.kubeconfig);
  return new KubernetesRuntime(config, client, kubeConfig);
}
