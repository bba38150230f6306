import type { TestRegistry } from './test-registry';

/** Credentials of a principal of a registry under test. */
export interface Credentials {
  user: string;
  password: string;
}

/** The administrator the token-mode test registries below start with. */
export const TEST_ADMIN: Credentials = { user: 'admin', password: 'admin-password-1' };

/** Environment of a test registry with token authentication and `TEST_ADMIN`. */
export const TOKEN_AUTH_ENV: Record<string, string> = {
  REGISTRY_AUTH: 'token',
  REGISTRY_ADMIN_USER: TEST_ADMIN.user,
  REGISTRY_ADMIN_PASSWORD: TEST_ADMIN.password,
  REGISTRY_RATE_LIMIT_REQUESTS: '0',
};

export function basic({ user, password }: Credentials): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/**
 * HTTP calls to a token-mode registry: the admin API with Basic credentials, and the
 * distribution API with bearer tokens from `/auth/token`.
 */
export class TokenClient {
  constructor(private readonly registry: TestRegistry) {}

  /** `Bearer <token>` for `scopes`, as `credentials` (anonymous without). */
  async bearer(scopes: string[], credentials?: Credentials): Promise<string> {
    const query = new URLSearchParams({ service: 'berth-registry' });
    for (const s of scopes) query.append('scope', s);
    const res = await fetch(`${this.registry.url}/auth/token?${query.toString()}`, {
      headers: credentials ? { Authorization: basic(credentials) } : {},
    });
    if (res.status !== 200) throw new Error(`token: ${res.status} ${await res.text()}`);
    return `Bearer ${((await res.json()) as { token: string }).token}`;
  }

  call(
    method: string,
    path: string,
    auth?: string,
    body?: Buffer | string,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    return fetch(`${this.registry.url}${path}`, {
      method,
      body,
      redirect: 'manual',
      headers: { ...(auth ? { Authorization: auth } : {}), ...headers },
    });
  }

  /** `/admin/v1<path>` as `TEST_ADMIN`, with a JSON body when given. */
  admin(method: string, path: string, body?: unknown): Promise<Response> {
    return this.call(
      method,
      `/admin/v1${path}`,
      basic(TEST_ADMIN),
      body === undefined ? undefined : JSON.stringify(body),
      body === undefined ? {} : { 'Content-Type': 'application/json' },
    );
  }

  /** Creates a principal whose password is `<name>-password`. */
  async createPrincipal(name: string, role: string): Promise<Credentials> {
    const password = `${name}-password`;
    const res = await this.admin('POST', '/principals', { kind: 'user', name, role, password });
    if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${await res.text()}`);
    return { user: name, password };
  }
}
