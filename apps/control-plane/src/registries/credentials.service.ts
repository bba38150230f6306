import { Injectable } from '@nestjs/common';
import { PRINCIPAL_NAME_PATTERN, type RegistryRole } from '@berth/platform-contracts';
import { problems } from '../common/problem';
import { roleAtLeast } from '../orgs/org-roles';
import type { OrgScope } from '../orgs/org-scope';
import { DataPlaneError } from './data-plane.client';
import { DataPlanes } from './data-planes';
import { MemberSyncService } from './member-sync.service';
import type { RegistryRecord } from './registry.types';

export interface CredentialsRequest {
  /** `user`: a token for the caller's own registry user; `service_account`: a new robot. */
  kind: 'user' | 'service_account';
  /** Service accounts: their name (a-z 0-9 . _ -). */
  name?: string;
  /** Service accounts: their role (at most the caller's). */
  role?: RegistryRole;
  expiresInDays?: number;
  /** Namespace and name of the pull secret manifest. */
  secretName?: string;
  namespace?: string;
}

export interface RegistryCredentials {
  registry: string;
  endpoint: string;
  username: string;
  /** An access token of the registry: shown only in this answer. */
  password: string;
  expiresAt: string | null;
  /** A `docker login` command (the token goes through stdin, not the command line). */
  dockerLogin: string;
  /** A `kubernetes.io/dockerconfigjson` Secret, ready to `kubectl apply -f`. */
  pullSecret: {
    apiVersion: 'v1';
    kind: 'Secret';
    type: 'kubernetes.io/dockerconfigjson';
    metadata: { name: string; namespace?: string };
    data: { '.dockerconfigjson': string };
  };
}

/** Issues registry credentials: a `docker login` command and a Kubernetes pull secret. */
@Injectable()
export class CredentialsService {
  constructor(
    private readonly planes: DataPlanes,
    private readonly members: MemberSyncService,
  ) {}

  async issue(
    scope: OrgScope,
    registry: RegistryRecord,
    request: CredentialsRequest,
  ): Promise<RegistryCredentials> {
    if (registry.state !== 'ready' || !registry.publicUrl) {
      throw problems.conflict(`registry ${registry.name} is ${registry.state}, not ready`);
    }
    const client = this.planes.client(registry);
    const expiresAt = request.expiresInDays
      ? new Date(Date.now() + request.expiresInDays * 86_400_000)
      : undefined;
    let username: string;
    let principalId: string;
    if (request.kind === 'user') {
      if (!scope.accountId) throw problems.forbidden('system scopes have no user');
      const mine = await this.members.principalOf(registry, scope.accountId);
      if (!mine) throw problems.forbidden('you are not a member of this registry');
      username = mine.principalName;
      principalId = mine.principalId;
    } else {
      if (!roleAtLeast(scope.role, 'admin')) {
        throw problems.forbidden('only owners and admins create service accounts');
      }
      const role = request.role ?? 'reader';
      if (!roleAtLeast(scope.role, role)) throw problems.forbidden(`you cannot grant ${role}`);
      const name = request.name;
      if (!name || !PRINCIPAL_NAME_PATTERN.test(name)) {
        throw problems.validation([
          { name: 'name', reason: 'a service account needs a name of a-z 0-9 . _ - (1-64)' },
        ]);
      }
      try {
        principalId = (await client.createPrincipal({ kind: 'service_account', name, role })).id;
      } catch (err) {
        if (err instanceof DataPlaneError && err.status === 409) {
          throw problems.conflict(
            `registry ${registry.name} already has a user or service account ${name}`,
          );
        }
        throw err;
      }
      username = name;
    }
    const token = await client.createToken(
      principalId,
      `api-${new Date().toISOString().slice(0, 10)}`,
      expiresAt,
    );
    const host = new URL(registry.publicUrl).host;
    const auth = Buffer.from(`${username}:${token.token}`).toString('base64');
    const dockerConfig = JSON.stringify({
      auths: { [host]: { username, password: token.token, auth } },
    });
    return {
      registry: host,
      endpoint: registry.publicUrl,
      username,
      password: token.token,
      expiresAt: token.expiresAt,
      dockerLogin: `echo '${token.token}' | docker login ${host} --username ${username} --password-stdin`,
      pullSecret: {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/dockerconfigjson',
        metadata: {
          name: request.secretName ?? `${registry.name}-pull`,
          ...(request.namespace ? { namespace: request.namespace } : {}),
        },
        data: { '.dockerconfigjson': Buffer.from(dockerConfig).toString('base64') },
      },
    };
  }
}
