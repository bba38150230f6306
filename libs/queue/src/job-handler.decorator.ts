import 'reflect-metadata';
import { type JobContext, type JobDefinition } from './job-definition';
import { type JobHandlerBinding } from './queue-driver';

/** Reflect-metadata key under which `@JobHandler` stores its definition on the method. */
export const JOB_HANDLER_METADATA = 'berth:queue:job-handler';

/** The method shape a handler of a `JobDefinition<P>` must have. */
export type JobHandlerMethod<P> = (payload: P, context: JobContext) => unknown;

/**
 * Marks a provider method as the handler of `definition`. `QueueModule` discovers it at start-up;
 * each declared job needs exactly one handler. The method receives the payload and a
 * `JobContext`; its (JSON-serialisable) return value becomes the job's `result`.
 *
 * @example
 *   @Injectable()
 *   export class MailJobs {
 *     @JobHandler(sendMailJob)
 *     async send(payload: { to: string }, job: JobContext): Promise<void> { ... }
 *   }
 */
export function JobHandler<P>(
  definition: JobDefinition<P>,
): <M extends JobHandlerMethod<P>>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => void {
  return (target, propertyKey, descriptor) => {
    const method = descriptor.value;
    const where = `${target.constructor.name}.${String(propertyKey)}`;
    if (typeof method !== 'function') {
      throw new TypeError(`@JobHandler on ${where}: only methods can be job handlers`);
    }
    const existing = jobHandlerDefinitionOf(method);
    if (existing !== undefined) {
      throw new TypeError(
        `@JobHandler on ${where}: a method handles one job, it already handles ` +
          `${existing.queue}/${existing.name}`,
      );
    }
    Reflect.defineMetadata(JOB_HANDLER_METADATA, definition, method);
  };
}

/** The definition a method was decorated with, if any. */
export function jobHandlerDefinitionOf(method: unknown): JobDefinition<unknown> | undefined {
  if (typeof method !== 'function') return undefined;
  const value: unknown = Reflect.getMetadata(JOB_HANDLER_METADATA, method);
  return value === undefined ? undefined : (value as JobDefinition<unknown>);
}

/** A binding that calls `instance[methodName]` with the instance as `this`. */
export function bindJobHandler(
  instance: object,
  methodName: string,
  definition: JobDefinition<unknown>,
): JobHandlerBinding {
  const method: unknown = (instance as Record<string, unknown>)[methodName];
  if (typeof method !== 'function') {
    throw new TypeError(`${instance.constructor.name}.${methodName} is not a method`);
  }
  const fn = method as (payload: unknown, context: JobContext) => unknown;
  return {
    definition,
    source: `${instance.constructor.name}.${methodName}`,
    // A synchronous throw becomes a rejection, like an async handler's.
    handle: (payload, context) => Promise.resolve().then(() => fn.call(instance, payload, context)),
  };
}

/**
 * Every `@JobHandler` method of `instance` (own class and base classes), bound to it. For use
 * without Nest; `QueueModule` finds handlers through Nest's discovery instead.
 */
export function jobHandlersOf(instance: object): JobHandlerBinding[] {
  const bindings: JobHandlerBinding[] = [];
  const seen = new Set<string>();
  for (
    let proto: object | null = Object.getPrototypeOf(instance) as object | null;
    proto !== null && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name === 'constructor' || seen.has(name)) continue;
      seen.add(name);
      const descriptor = Object.getOwnPropertyDescriptor(proto, name);
      const definition = jobHandlerDefinitionOf(descriptor?.value);
      if (definition !== undefined) bindings.push(bindJobHandler(instance, name, definition));
    }
  }
  return bindings;
}
