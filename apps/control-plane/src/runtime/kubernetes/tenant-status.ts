import type { V1Deployment, V1Namespace, V1Pod } from '@kubernetes/client-node' with {
  'resolution-mode': 'import',
};
import type { RuntimeStatus } from '../runtime.port';

/** What the cluster says about one tenant, as read by the adapter. */
export interface TenantClusterState {
  /** Null when the namespace does not exist. */
  namespace: V1Namespace | null;
  /** Null when the Deployment does not exist. */
  deployment: V1Deployment | null;
  /** The data plane's pods; read only when the Deployment is neither ready nor failed. */
  pods: V1Pod[];
}

/** Waiting reasons of a container that will not get better without a change. */
const FAILED_WAITING_REASONS = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
]);

function condition(deployment: V1Deployment, type: string) {
  return deployment.status?.conditions?.find((c) => c.type === type);
}

/** True when the controller has seen the current spec (its status is about what we applied). */
function observedCurrent(deployment: V1Deployment): boolean {
  const generation = deployment.metadata?.generation;
  const observed = deployment.status?.observedGeneration;
  return generation === undefined || (observed !== undefined && observed >= generation);
}

/**
 * The tenant's state from its Deployment: `absent` without namespace or Deployment (or while
 * the namespace is being deleted), `suspended` at 0 replicas, `failed` when the rollout gave up
 * (`Progressing=False`, `ProgressDeadlineExceeded`) or a pod cannot start (crash loop, image
 * pull, bad configuration) or the ReplicaSet cannot create pods (quota, admission), `ready` when
 * a pod is available and the controller has observed the current spec, otherwise `starting`.
 */
export function tenantStatusFrom(state: TenantClusterState): RuntimeStatus {
  const { namespace, deployment } = state;
  if (namespace === null) return { state: 'absent', message: null };
  if (
    namespace.metadata?.deletionTimestamp !== undefined ||
    namespace.status?.phase === 'Terminating'
  ) {
    return {
      state: 'absent',
      message: `namespace ${namespace.metadata?.name ?? ''} is being deleted`,
    };
  }
  if (deployment === null) return { state: 'absent', message: null };
  if (deployment.spec?.replicas === 0) return { state: 'suspended', message: null };

  const progressing = condition(deployment, 'Progressing');
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    return {
      state: 'failed',
      message: `rollout failed (ProgressDeadlineExceeded): ${progressing.message ?? 'no progress'}`,
    };
  }

  const available = deployment.status?.availableReplicas ?? 0;
  if (available >= 1 && observedCurrent(deployment)) return { state: 'ready', message: null };

  for (const pod of state.pods) {
    for (const container of pod.status?.containerStatuses ?? []) {
      const waiting = container.state?.waiting;
      if (waiting?.reason !== undefined && FAILED_WAITING_REASONS.has(waiting.reason)) {
        const terminated = container.lastState?.terminated;
        const last =
          terminated !== undefined
            ? `; last exit ${terminated.exitCode}${terminated.reason !== undefined ? ` (${terminated.reason})` : ''}`
            : '';
        return {
          state: 'failed',
          message: `pod ${pod.metadata?.name ?? '?'}: ${waiting.reason}${waiting.message !== undefined ? `: ${waiting.message}` : ''}${last}`,
        };
      }
    }
  }

  const replicaFailure = condition(deployment, 'ReplicaFailure');
  if (replicaFailure?.status === 'True') {
    return {
      state: 'failed',
      message:
        `cannot create pods (${replicaFailure.reason ?? 'ReplicaFailure'}): ${replicaFailure.message ?? ''}`.trim(),
    };
  }

  const wanted = deployment.spec?.replicas ?? 1;
  return {
    state: 'starting',
    message: observedCurrent(deployment)
      ? `${available}/${wanted} replicas available`
      : 'waiting for the Deployment controller to observe the new spec',
  };
}
