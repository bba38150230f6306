import { Module } from '@nestjs/common';
import { QueueModule, createQueueDriver } from '@berth/queue';
import { REGISTRY_CONFIG } from '../config/config.tokens';
import { RetentionModule } from '../retention/retention.module';
import type { RegistryConfig } from '../config/registry-config';
import { JobsController } from './jobs.controller';
import { MaintenanceJobs } from './maintenance.jobs';
import { REGISTRY_JOBS } from './registry-jobs';

/**
 * Background work behind the queue port, the driver chosen in one place: BullMQ on Redis
 * (production; `berth registry worker` is the same code with the worker role) or the
 * in-process driver when no REDIS_URL is set (the single-machine quick start).
 */
@Module({
  imports: [
    RetentionModule,
    QueueModule.forRootAsync({
      inject: [REGISTRY_CONFIG],
      useFactory: async (config: RegistryConfig) => {
        return {
          driver: await createQueueDriver({
            redisUrl: config.redisUrl,
            prefix: config.queuePrefix,
          }),
          jobs: REGISTRY_JOBS,
          role: config.redisUrl ? config.queueRole : 'all',
        };
      },
    }),
  ],
  controllers: [JobsController],
  providers: [MaintenanceJobs],
})
export class JobsModule {}
