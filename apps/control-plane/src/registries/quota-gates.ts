import { Inject, Injectable } from '@nestjs/common';
import type { WriteGateSettings } from '@berth/platform-contracts';
import { CONTROL_PLANE_CONFIG } from '../config/config.tokens';
import type { ControlPlaneConfig } from '../config/control-plane-config';
import { TiersService } from '../tiers/tiers.service';
import { writeGateFor, type QuotaThresholds } from './quota-policy';
import type { RegistryRecord } from './registry.types';

/**
 * The write gate each registry's data plane should enforce, from its tier, its quota policy
 * and its maintenance switch: what the lifecycle job pushes when a registry comes up and the
 * usage monitor pushes when anything changed.
 */
@Injectable()
export class QuotaGates {
  readonly thresholds: QuotaThresholds;

  constructor(
    private readonly tiers: TiersService,
    @Inject(CONTROL_PLANE_CONFIG) config: ControlPlaneConfig,
  ) {
    this.thresholds = {
      blockPercent: config.quotaBlockPercent,
      resumePercent: config.quotaResumePercent,
    };
  }

  async desired(
    registry: Pick<RegistryRecord, 'tier' | 'quotaPolicy' | 'maintenanceMessage'>,
  ): Promise<WriteGateSettings> {
    const tier = await this.tiers.get(registry.tier);
    return writeGateFor({
      policy: registry.quotaPolicy,
      diskBytes: tier.diskBytes,
      hasLargerTier: (await this.tiers.next(registry.tier)) !== null,
      maintenanceMessage: registry.maintenanceMessage,
      thresholds: this.thresholds,
    });
  }
}
