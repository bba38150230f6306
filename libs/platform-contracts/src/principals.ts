import type { RegistryRole } from './index';

/** Principal names in a data plane (users and service accounts). */
export const PRINCIPAL_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** `GET/POST /admin/v1/principals` items. */
export interface RegistryPrincipal {
  id: string;
  kind: 'user' | 'service_account';
  name: string;
  role: RegistryRole | 'none';
  disabled: boolean;
  createdAt: string;
}

/** `POST /admin/v1/principals` body. */
export interface CreatePrincipalRequest {
  kind: 'user' | 'service_account';
  name: string;
  role: RegistryRole;
  password?: string;
}

/** `POST /admin/v1/principals/{id}/tokens` response: the secret appears only here. */
export interface IssuedAccessToken {
  id: string;
  name: string;
  token: string;
  expiresAt: string | null;
  createdAt: string;
}
