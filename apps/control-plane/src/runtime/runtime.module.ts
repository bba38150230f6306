import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import { CONTROL_PLANE_CONFIG } from '../config/config.tokens';
import type { ControlPlaneConfig } from '../config/control-plane-config';
import { TENANT_RUNTIME, type TenantRuntime } from './runtime.port';

/** Directory of the local runtime's tenants under the platform's data directory. */
export function localTenantsDir(config: ControlPlaneConfig): string {
  return join(config.dataDir, 'registries');
}

/** Chooses the runtime adapter from BERTH_RUNTIME; adapters load only when chosen. */
export async function createTenantRuntime(config: ControlPlaneConfig): Promise<TenantRuntime> {
  if (config.runtime === 'kubernetes') {
    const k8s = config.kubernetes;
    if (!k8s) throw new Error('BERTH_RUNTIME=kubernetes without Kubernetes settings');
    const { createKubernetesRuntime } = await import('./kubernetes/index.js');
    return createKubernetesRuntime({
      image: k8s.image,
      baseDomain: k8s.baseDomain,
      gateway: { name: k8s.gatewayName, namespace: k8s.gatewayNamespace },
      controlPlaneNamespace: k8s.controlPlaneNamespace,
      ...(k8s.certManagerIssuer ? { certManager: { issuerName: k8s.certManagerIssuer } } : {}),
      ...(k8s.kubeconfig ? { kubeconfig: { mode: 'file' as const, path: k8s.kubeconfig } } : {}),
    });
  }
  const { LocalProcessRuntime } = await import('./local/index.js');
  const logger = new Logger('LocalRuntime');
  return new LocalProcessRuntime({
    dataDir: localTenantsDir(config),
    bindHost: config.local.bindHost,
    publicHost: config.local.publicHost,
    logLevel: config.logLevel === 'silent' ? 'warn' : config.logLevel,
    extraEnv: config.tenantEnv,
    logger: {
      info: (fields, message) => logger.log(`${message} ${JSON.stringify(fields)}`),
      warn: (fields, message) => logger.warn(`${message} ${JSON.stringify(fields)}`),
      error: (fields, message) => logger.error(`${message} ${JSON.stringify(fields)}`),
    },
  });
}

@Global()
@Module({
  providers: [
    {
      provide: TENANT_RUNTIME,
      inject: [CONTROL_PLANE_CONFIG],
      useFactory: (config: ControlPlaneConfig) => createTenantRuntime(config),
    },
  ],
  exports: [TENANT_RUNTIME],
})
export class RuntimeModule implements OnApplicationShutdown {
  constructor(@Inject(TENANT_RUNTIME) private readonly runtime: TenantRuntime) {}

  /** Local runtime: stops the data planes (their data stays); they come back on the next start. */
  async onApplicationShutdown(): Promise<void> {
    await this.runtime.close();
  }
}
