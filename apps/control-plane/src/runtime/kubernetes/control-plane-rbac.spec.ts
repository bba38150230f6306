import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidatingAdmissionPolicy } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy';
import { ValidatingAdmissionPolicyBinding } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { allows, clusterRoleRules, loadRbacExample } from './testing/rbac-example';

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  ServiceAccount,
  ClusterRole,
  ClusterRoleBinding,
  ValidatingAdmissionPolicy,
  ValidatingAdmissionPolicyBinding,
};

describe('deploy/kubernetes/control-plane-rbac.yaml', () => {
  it('holds valid objects', () => {
    const documents = loadRbacExample();
    assert.deepEqual(
      documents.map((document) => document.kind),
      Object.keys(MODELS),
    );
    for (const document of documents) {
      const Model = MODELS[document.kind];
      assert.ok(Model);
      assert.doesNotThrow(() => new Model(document as never).validate(), document.kind);
    }
  });

  it('binds the role to the service account and grants no wildcard nor reading secrets in bulk', () => {
    const documents = loadRbacExample();
    const binding = documents.find(
      (document) => document.kind === 'ClusterRoleBinding',
    ) as unknown as {
      roleRef: { name: string };
      subjects: { kind: string; name: string; namespace: string }[];
    };
    const role = documents.find((document) => document.kind === 'ClusterRole');
    const account = documents.find((document) => document.kind === 'ServiceAccount');
    assert.equal(binding.roleRef.name, role?.metadata.name);
    assert.deepEqual(binding.subjects, [
      {
        kind: 'ServiceAccount',
        name: account?.metadata.name,
        namespace: account?.metadata.namespace,
      },
    ]);
    const rules = clusterRoleRules(documents);
    for (const rule of rules) {
      for (const value of [...rule.apiGroups, ...rule.resources, ...rule.verbs]) {
        assert.ok(!value.includes('*'), `wildcard in ${JSON.stringify(rule)}`);
      }
    }
    for (const verb of ['list', 'watch', 'delete']) {
      assert.equal(allows(rules, '', 'secrets', verb), false, `secrets ${verb}`);
    }
  });
});
