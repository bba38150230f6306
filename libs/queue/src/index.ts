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
export { BullmqQueueDriver, type BullmqQueueDriverOptions } from './bullmq-queue.driver';
export { type QueueModuleOptions } from './queue-module.options';
export { QueueModule, type QueueModuleAsyncOptions } from './queue.module';
export { QueueService } from './queue.service';
export { JobHandlerExplorer } from './job-handler.explorer';
