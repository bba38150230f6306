import {
  DataPlaneAdminPaths,
  type CreatePrincipalRequest,
  type EgressReport,
  type IssuedAccessToken,
  type RegistryPrincipal,
  type RegistryRole,
  type StorageUsageReport,
  type WriteGateSettings,
  type WriteGateStatus,
} from '@berth/platform-contracts';

export class DataPlaneError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'DataPlaneError';
  }
}

export interface DataPlaneAddress {
  adminUrl: string;
  adminUser: string;
  adminPassword: string;
}

/**
 * The control plane's side of a data plane's admin API (`/admin/v1`, HTTP Basic with the
 * tenant's admin credentials). Shapes come from @berth/platform-contracts.
 */
export class DataPlaneClient {
  private readonly authorization: string;

  constructor(
    private readonly address: DataPlaneAddress,
    private readonly timeoutMs = 10_000,
  ) {
    this.authorization = `Basic ${Buffer.from(`${address.adminUser}:${address.adminPassword}`).toString('base64')}`;
  }

  async ready(): Promise<boolean> {
    try {
      const res = await fetch(new URL(DataPlaneAdminPaths.ready, this.address.adminUrl), {
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await res.body?.cancel();
      return res.ok;
    } catch {
      return false;
    }
  }

  usage(): Promise<StorageUsageReport> {
    return this.call('GET', DataPlaneAdminPaths.usage);
  }

  writeGate(): Promise<WriteGateStatus> {
    return this.call('GET', DataPlaneAdminPaths.writeGate);
  }

  setWriteGate(settings: WriteGateSettings): Promise<WriteGateStatus> {
    return this.call('PUT', DataPlaneAdminPaths.writeGate, settings);
  }

  egress(since: Date): Promise<EgressReport> {
    return this.call(
      'GET',
      `${DataPlaneAdminPaths.egress}?since=${encodeURIComponent(since.toISOString())}`,
    );
  }

  principals(): Promise<RegistryPrincipal[]> {
    return this.call('GET', DataPlaneAdminPaths.principals);
  }

  createPrincipal(input: CreatePrincipalRequest): Promise<RegistryPrincipal> {
    return this.call('POST', DataPlaneAdminPaths.principals, input);
  }

  updatePrincipal(
    id: string,
    change: { role?: RegistryRole; disabled?: boolean },
  ): Promise<RegistryPrincipal> {
    return this.call(
      'PATCH',
      `${DataPlaneAdminPaths.principals}/${encodeURIComponent(id)}`,
      change,
    );
  }

  /** Deletes a principal; its tokens stop working at once. Absent is fine. */
  async deletePrincipal(id: string): Promise<void> {
    try {
      await this.call('DELETE', `${DataPlaneAdminPaths.principals}/${encodeURIComponent(id)}`);
    } catch (err) {
      if (err instanceof DataPlaneError && err.status === 404) return;
      throw err;
    }
  }

  createToken(principalId: string, name: string, expiresAt?: Date): Promise<IssuedAccessToken> {
    return this.call(
      'POST',
      `${DataPlaneAdminPaths.principals}/${encodeURIComponent(principalId)}/tokens`,
      {
        name,
        ...(expiresAt ? { expiresAt: expiresAt.toISOString() } : {}),
      },
    );
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(path, this.address.adminUrl);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: this.authorization,
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new DataPlaneError(
        `data plane unreachable at ${url.origin}: ${err instanceof Error ? err.message : String(err)}`,
        0,
      );
    }
    const text = await res.text();
    if (!res.ok) {
      throw new DataPlaneError(
        `data plane ${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`,
        res.status,
      );
    }
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
}
