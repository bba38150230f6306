import { Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { bindJobHandler, jobHandlerDefinitionOf } from './job-handler.decorator';
import { JobRegistryError } from './job-registry';
import { type JobHandlerBinding } from './queue-driver';

/** Finds every `@JobHandler` method on the application's providers and controllers. */
@Injectable()
export class JobHandlerExplorer {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  explore(): JobHandlerBinding[] {
    const bindings: JobHandlerBinding[] = [];
    const problems: string[] = [];
    // The same instance can be reachable through several wrappers (useExisting aliases).
    const seen = new Set<object>();
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      if (!wrapper.isDependencyTreeStatic()) {
        const prototype: unknown = (wrapper.metatype as { prototype?: unknown } | null)?.prototype;
        if (isObject(prototype) && this.handlerMethods(prototype).length > 0) {
          problems.push(
            `${String(wrapper.name)} has @JobHandler methods but is request-scoped or transient; ` +
              'job handlers must live on singleton providers',
          );
        }
        continue;
      }
      const instance: unknown = wrapper.instance;
      if (!isObject(instance) || seen.has(instance)) continue;
      seen.add(instance);
      const prototype: unknown = Object.getPrototypeOf(instance);
      if (!isObject(prototype)) continue;
      for (const [method, definition] of this.handlerMethods(prototype)) {
        bindings.push(bindJobHandler(instance, method, definition));
      }
    }
    if (problems.length > 0) throw new JobRegistryError(problems);
    return bindings;
  }

  private handlerMethods(
    prototype: object,
  ): Array<[string, NonNullable<ReturnType<typeof jobHandlerDefinitionOf>>]> {
    const found: Array<[string, NonNullable<ReturnType<typeof jobHandlerDefinitionOf>>]> = [];
    for (const name of this.scanner.getAllMethodNames(prototype)) {
      const definition = jobHandlerDefinitionOf((prototype as Record<string, unknown>)[name]);
      if (definition !== undefined) found.push([name, definition]);
    }
    return found;
  }
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}
