import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type {
  V1Deployment,
  V1DeploymentCondition,
  V1Namespace,
  V1Pod,
} from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { tenantStatusFrom } from './tenant-status';

const namespace: V1Namespace = { metadata: { name: 'berth-acme' }, status: { phase: 'Active' } };

function deployment(
  options: {
    replicas?: number;
    generation?: number;
    observedGeneration?: number;
    availableReplicas?: number;
    conditions?: V1DeploymentCondition[];
  } = {},
): V1Deployment {
  return {
    metadata: { name: 'registry', namespace: 'berth-acme', generation: options.generation ?? 1 },
    spec: {
      replicas: options.replicas ?? 1,
      selector: {},
      template: {},
    },
    status: {
      observedGeneration: options.observedGeneration,
      availableReplicas: options.availableReplicas,
      conditions: options.conditions,
    },
  };
}

function pod(waiting: { reason: string; message?: string }, exitCode?: number): V1Pod {
  return {
    metadata: { name: 'registry-7d9f-abcde' },
    status: {
      containerStatuses: [
        {
          name: 'registry',
          image: 'berth/registry',
          imageID: '',
          ready: false,
          restartCount: 4,
          state: { waiting },
          ...(exitCode !== undefined
            ? { lastState: { terminated: { exitCode, reason: 'Error' } } }
            : {}),
        },
      ],
    },
  };
}

describe('tenantStatusFrom', () => {
  it('is absent without namespace or Deployment, and while the namespace is deleted', () => {
    assert.deepEqual(tenantStatusFrom({ namespace: null, deployment: null, pods: [] }), {
      state: 'absent',
      message: null,
    });
    assert.deepEqual(tenantStatusFrom({ namespace, deployment: null, pods: [] }), {
      state: 'absent',
      message: null,
    });
    const terminating: V1Namespace = {
      metadata: { name: 'berth-acme', deletionTimestamp: new Date(0) },
      status: { phase: 'Terminating' },
    };
    assert.deepEqual(
      tenantStatusFrom({ namespace: terminating, deployment: deployment(), pods: [] }),
      {
        state: 'absent',
        message: 'namespace berth-acme is being deleted',
      },
    );
  });

  it('is suspended at zero replicas, whatever the pods still do', () => {
    assert.equal(
      tenantStatusFrom({
        namespace,
        deployment: deployment({ replicas: 0, availableReplicas: 1 }),
        pods: [pod({ reason: 'CrashLoopBackOff' })],
      }).state,
      'suspended',
    );
  });

  it('is ready with an available replica once the current spec is observed', () => {
    assert.deepEqual(
      tenantStatusFrom({
        namespace,
        deployment: deployment({ generation: 2, observedGeneration: 2, availableReplicas: 1 }),
        pods: [],
      }),
      { state: 'ready', message: null },
    );
    assert.deepEqual(
      tenantStatusFrom({
        namespace,
        deployment: deployment({ generation: 3, observedGeneration: 2, availableReplicas: 1 }),
        pods: [],
      }),
      {
        state: 'starting',
        message: 'waiting for the Deployment controller to observe the new spec',
      },
    );
    assert.deepEqual(
      tenantStatusFrom({
        namespace,
        deployment: deployment({ replicas: 2, observedGeneration: 1, availableReplicas: 0 }),
        pods: [],
      }),
      { state: 'starting', message: '0/2 replicas available' },
    );
  });

  it('fails when the rollout exceeded its deadline, even with an old pod serving', () => {
    const status = tenantStatusFrom({
      namespace,
      deployment: deployment({
        observedGeneration: 1,
        availableReplicas: 1,
        conditions: [
          {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: 'ReplicaSet "registry-7d9f" has timed out progressing.',
          },
        ],
      }),
      pods: [],
    });
    assert.deepEqual(status, {
      state: 'failed',
      message:
        'rollout failed (ProgressDeadlineExceeded): ReplicaSet "registry-7d9f" has timed out progressing.',
    });
  });

  it('fails on a pod that cannot start, with its reason and last exit', () => {
    const status = tenantStatusFrom({
      namespace,
      deployment: deployment({ observedGeneration: 1, availableReplicas: 0 }),
      pods: [pod({ reason: 'CrashLoopBackOff', message: 'back-off 40s restarting' }, 2)],
    });
    assert.deepEqual(status, {
      state: 'failed',
      message:
        'pod registry-7d9f-abcde: CrashLoopBackOff: back-off 40s restarting; last exit 2 (Error)',
    });
    assert.equal(
      tenantStatusFrom({
        namespace,
        deployment: deployment({ observedGeneration: 1 }),
        pods: [pod({ reason: 'ImagePullBackOff' })],
      }).state,
      'failed',
    );
    assert.equal(
      tenantStatusFrom({
        namespace,
        deployment: deployment({ observedGeneration: 1 }),
        pods: [pod({ reason: 'ContainerCreating' })],
      }).state,
      'starting',
      'a container being created is on its way',
    );
  });

  it('fails when the ReplicaSet cannot create pods (quota, admission)', () => {
    const status = tenantStatusFrom({
      namespace,
      deployment: deployment({
        observedGeneration: 1,
        conditions: [
          {
            type: 'ReplicaFailure',
            status: 'True',
            reason: 'FailedCreate',
            message: 'pods "registry-7d9f-x" is forbidden: exceeded quota: registry-quota',
          },
        ],
      }),
      pods: [],
    });
    assert.equal(status.state, 'failed');
    assert.match(status.message ?? '', /FailedCreate.*exceeded quota/);
  });
});
