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
import type { BullmqQueueDriver, BullmqQueueDriverOptions } from './bullmq-queue.driver';

/** The BullMQ driver, loaded on demand: bullmq and ioredis are not needed without Redis. */
export async function createBullmqQueueDriver(
  options: BullmqQueueDriverOptions,
): Promise<BullmqQueueDriver> {
  const { BullmqQueueDriver: Driver } = await import('./bullmq-queue.driver.js');
  return new Driver(options);
}
export { type QueueModuleOptions } from './queue-module.options';
export { QueueModule, type QueueModuleAsyncOptions } from './queue.module';
export { QueueService } from './queue.service';
export { JobHandlerExplorer } from './job-handler.explorer';
