import { Injectable } from '@nestjs/common';
import { problems } from '../common/problem';
import { DataPlaneClient } from './data-plane.client';
import type { RegistryRecord } from './registry.types';

/** Admin API clients of the tenants' data planes. */
@Injectable()
export class DataPlanes {
  client(registry: RegistryRecord): DataPlaneClient {
    if (!registry.adminUrl || !registry.secrets) {
      throw problems.conflict(
        `registry ${registry.name} is not provisioned (state ${registry.state})`,
      );
    }
    return new DataPlaneClient({
      adminUrl: registry.adminUrl,
      adminUser: registry.secrets.adminUser,
      adminPassword: registry.secrets.adminPassword,
    });
  }
}
