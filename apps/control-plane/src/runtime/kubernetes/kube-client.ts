import type * as KubernetesClient from '@kubernetes/client-node' with {
  'resolution-mode': 'import',
};
import type { KubeconfigSource } from './kubernetes-runtime.config';

/** The module `@kubernetes/client-node`. */
export type KubernetesClientModule = typeof KubernetesClient;
export type KubeConfig = KubernetesClient.KubeConfig;
export type KubernetesObjectApi = KubernetesClient.KubernetesObjectApi;

/**
 * `@kubernetes/client-node` v2 is an ES module; this project compiles to CommonJS, so it is
 * loaded with `import()` (which `module: node16` keeps as a real dynamic import) once, when the
 * Kubernetes runtime is created: the local runtime never loads it.
 */
let loading: Promise<KubernetesClientModule> | undefined;

export function loadKubernetesClient(): Promise<KubernetesClientModule> {
  loading ??= import('@kubernetes/client-node').catch((error: unknown) => {
    loading = undefined;
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `cannot load @kubernetes/client-node on Node.js ${process.version}: ${reason}. ` +
        'Its bundled undici 8 needs Node.js 22.19 or later; on Node.js 20 pin undici 7 for it ' +
        '(see docs/kubernetes-runtime.md).',
      { cause: error },
    );
  });
  return loading;
}

/** A `KubeConfig` from the configured source. */
export function kubeConfigFrom(
  client: KubernetesClientModule,
  source: KubeconfigSource,
): KubeConfig {
  const kc = new client.KubeConfig();
  switch (source.mode) {
    case 'in-cluster':
      kc.loadFromCluster();
      break;
    case 'file':
      kc.loadFromFile(source.path);
      if (source.context !== undefined) kc.setCurrentContext(source.context);
      break;
    case 'default':
      kc.loadFromDefault();
      break;
  }
  if (kc.getCurrentCluster() === null) {
    throw new Error(`no Kubernetes cluster in the ${source.mode} kubeconfig`);
  }
  return kc;
}

/** The HTTP status of a failed API call (the client's `ApiException`), if there is one. */
export function apiStatusCode(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = error.code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

/** The API server's own message (`Status.message`) of a failed call, else the error's. */
export function apiErrorMessage(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'body' in error) {
    const body = error.body;
    const parsed: unknown = typeof body === 'string' ? safeJson(body) : body;
    if (typeof parsed === 'object' && parsed !== null && 'message' in parsed) {
      const message = parsed.message;
      if (typeof message === 'string') {
        const code = apiStatusCode(error);
        return code !== undefined ? `${code}: ${message}` : message;
      }
    }
  }
  return error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
