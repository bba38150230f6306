import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ControlPlaneConfig } from './config/control-plane-config';
import { IdentityService } from './identity/identity.service';
import { OrgsService } from './orgs/orgs.service';
import { CredentialsService, type RegistryCredentials } from './registries/credentials.service';
import { RegistriesService } from './registries/registries.service';
import { RegistryStore } from './registries/registry.store';
import { TiersService } from './tiers/tiers.service';

export interface BootstrapResult {
  adminEmail: string;
  /** Known only when generated or given in this start (else null: it was set on first start). */
  adminPassword: string | null;
  passwordFile: string | null;
  registry: { name: string; endpoint: string | null; state: string } | null;
  /** Registry credentials for the administrator, on first start only. */
  credentials: RegistryCredentials | null;
}

const FIRST_ORG = 'default';
const FIRST_REGISTRY = 'default';

/**
 * First start of a single-machine platform: the administrator account (BERTH_ADMIN_EMAIL /
 * BERTH_ADMIN_PASSWORD, or a generated password kept in DATA_DIR/control-plane/admin.password),
 * a first organisation, and a first registry listening where the registry listened before the
 * platform (PORT, default 5000). Later starts change nothing.
 */
export async function bootstrapPlatform(
  app: NestFastifyApplication,
  config: ControlPlaneConfig,
  waitReadyMs = 120_000,
): Promise<BootstrapResult> {
  const identity = app.get(IdentityService);
  const passwordFile = join(config.dataDir, 'control-plane', 'admin.password');
  let password = config.admin.password ?? null;
  let stored: string | null = null;
  if (!password) {
    stored = (await readFile(passwordFile, 'utf8').catch(() => '')).trim() || null;
    password = stored ?? randomBytes(12).toString('base64url');
  }
  const { account, created } = await identity.ensureOperator(config.admin.email, password);
  if (created && !config.admin.password) {
    await mkdir(join(config.dataDir, 'control-plane'), { recursive: true });
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  }
  const result: BootstrapResult = {
    adminEmail: account.email,
    adminPassword: created || config.admin.password || stored ? password : null,
    passwordFile: config.admin.password ? null : passwordFile,
    registry: null,
    credentials: null,
  };
  const scope = await app
    .get(OrgsService)
    .ensureOrganisation(account.id, FIRST_ORG, 'Default organisation');
  const registries = app.get(RegistriesService);
  const store = app.get(RegistryStore);
  let record = await store.inOrg(scope, FIRST_REGISTRY);
  const firstStart =
    record === null &&
    (await store.systemInStates(['provisioning', 'ready', 'suspended', 'failed'])).length === 0;
  if (firstStart && config.runtime === 'local') {
    const smallest = (await app.get(TiersService).list()).find((t) => t.available);
    if (!smallest) throw new Error('no tier is available');
    await registries.create(
      scope,
      { name: FIRST_REGISTRY, tier: smallest.name },
      config.local.firstRegistryPort,
    );
  }
  const deadline = Date.now() + waitReadyMs;
  for (;;) {
    record = await store.inOrg(scope, FIRST_REGISTRY);
    if (!record || record.state !== 'provisioning' || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  if (record) {
    result.registry = { name: record.name, endpoint: record.publicUrl, state: record.state };
    if (firstStart && record.state === 'ready') {
      result.credentials = await app.get(CredentialsService).issue(scope, record, { kind: 'user' });
    }
  }
  return result;
}
