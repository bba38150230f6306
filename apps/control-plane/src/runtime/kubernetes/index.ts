export {
  KubernetesRuntime,
  KubernetesRuntimeError,
  createKubernetesRuntime,
  type CreateKubernetesRuntimeOptions,
} from './kubernetes-runtime';
export {
  DATA_PLANE_PORT,
  DATA_PLANE_SERVICE_NAME,
  DEFAULT_FIELD_MANAGER,
  KubernetesRuntimeConfigError,
  TENANT_NAMESPACE_PREFIX,
  resolveKubernetesRuntimeConfig,
  type CertManagerSettings,
  type EgressSettings,
  type EgressTarget,
  type GatewayParentRef,
  type KubeconfigSource,
  type KubernetesRuntimeConfig,
  type KubernetesRuntimeConfigInput,
} from './kubernetes-runtime.config';
export {
  TenantSpecError,
  buildTenantObjects,
  tenantEndpoints,
  tenantNamespace,
  type TenantObject,
} from './tenant-objects';
export { tenantStatusFrom, type TenantClusterState } from './tenant-status';
