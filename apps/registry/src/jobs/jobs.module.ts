import { Logger, Module } from '@nestjs/common';
import { InProcessQueueDriver, QueueModule, createBullmqQueueDriver } from '@berth/queue';
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
        // Errors with no caller to go to (a scheduled run that failed to enqueue, a lost Redis
        // connection) go to the structured log.
        const logger = new Logger('Queue');
        const onError = (error: unknown): void =>
          logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
        return {
          driver: config.redisUrl
            ? await createBullmqQueueDriver({
                url: config.redisUrl,
                prefix: config.queuePrefix,
                onError,
              })
            : new InProcessQueueDriver({ onError }),
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
