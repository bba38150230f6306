import {
  Module,
  type DynamicModule,
  type InjectionToken,
  type ModuleMetadata,
  type OptionalFactoryDependency,
} from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { JobHandlerExplorer } from './job-handler.explorer';
import { QUEUE_MODULE_OPTIONS, type QueueModuleOptions } from './queue-module.options';
import { QueueService } from './queue.service';

export interface QueueModuleAsyncOptions {
  imports?: ModuleMetadata['imports'];
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  useFactory: (...deps: never[]) => QueueModuleOptions | Promise<QueueModuleOptions>;
}

/**
 * Global module providing `QueueService`. Import it once in the root module:
 *
 *   QueueModule.forRoot({ driver: new InProcessQueueDriver(), jobs: [sendMailJob] })
 *
 * or, when the driver needs configuration, `QueueModule.forRootAsync({ inject, useFactory })`.
 */
@Module({})
export class QueueModule {
  static forRoot(options: QueueModuleOptions): DynamicModule {
    return QueueModule.build([], { provide: QUEUE_MODULE_OPTIONS, useValue: options });
  }

  static forRootAsync(options: QueueModuleAsyncOptions): DynamicModule {
    return QueueModule.build(options.imports ?? [], {
      provide: QUEUE_MODULE_OPTIONS,
      inject: options.inject ?? [],
      useFactory: options.useFactory,
    });
  }

  private static build(
    imports: NonNullable<ModuleMetadata['imports']>,
    optionsProvider: NonNullable<ModuleMetadata['providers']>[number],
  ): DynamicModule {
    return {
      module: QueueModule,
      global: true,
      imports: [DiscoveryModule, ...imports],
      providers: [optionsProvider, JobHandlerExplorer, QueueService],
      exports: [QueueService],
    };
  }
}
