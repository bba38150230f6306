export * from './job-definition';
export * from './queue-driver';
export {
  JOB_HANDLER_METADATA,
  JobHandler,
  bindJobHandler,
  jobHandlerDefinitionOf,
  jobHandlersOf,
  type JobHandlerMethod,
} from './job-handler.decorator';
export { JobRegistry, JobRegistryError } from './job-registry';
export { InProcessQueueDriver, type InProcessQueueDriverOptions } from './in-process-queue.driver';
export type { BullmqQueueDriver, BullmqQueueDriverOptions } from './bullmq-queue.driver';
import { Logger } from '@nestjs/common';
import type { BullmqQueueDriver, BullmqQueueDriverOptions } from './bullmq-queue.driver';
import { InProcessQueueDriver } from './in-process-queue.driver';
import type { QueueDriver } from './queue-driver';

/** The BullMQ driver, loaded on demand: bullmq and ioredis are not needed without Redis. */
export async function createBullmqQueueDriver(
  options: BullmqQueueDriverOptions,
): Promise<BullmqQueueDriver> {
  const { BullmqQueueDriver: Driver } = await import('./bullmq-queue.driver.js');
  return new Driver(options);
}

/**
 * The driver of a process, chosen in one place: BullMQ on `redisUrl` (production), or the
 * in-process driver without Redis (the single-machine quick start). Errors that have no caller
 * to go to (a scheduled run that failed to enqueue, a lost Redis connection) go to the log.
 */
export async function createQueueDriver(options: {
  redisUrl?: string;
  prefix: string;
}): Promise<QueueDriver> {
  const logger = new Logger('Queue');
  const onError = (error: unknown): void =>
    logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  return options.redisUrl
    ? createBullmqQueueDriver({ url: options.redisUrl, prefix: options.prefix, onError })
    : new InProcessQueueDriver({ onError });
}
export { type QueueModuleOptions } from './queue-module.options';
export { QueueModule, type QueueModuleAsyncOptions } from './queue.module';
export { QueueService } from './queue.service';
export { JobHandlerExplorer } from './job-handler.explorer';
