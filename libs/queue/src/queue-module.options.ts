import { type JobDefinition } from './job-definition';
import { type QueueDriver, type QueueRole } from './queue-driver';

/** Injection token of the `QueueModuleOptions` (internal to QueueModule). */
export const QUEUE_MODULE_OPTIONS = Symbol('QUEUE_MODULE_OPTIONS');

export interface QueueModuleOptions {
  /** `InProcessQueueDriver` or `BullmqQueueDriver`; QueueModule starts and closes it. */
  driver: QueueDriver;
  /** Every job this application knows; each needs exactly one `@JobHandler`. */
  jobs: readonly JobDefinition<unknown>[];
  /** Default `all`. Handlers are discovered and checked in every role. */
  role?: QueueRole;
}
