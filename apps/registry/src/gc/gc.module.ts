import { Global, Module } from '@nestjs/common';
import { GarbageCollector } from './garbage-collector';
import { GcController } from './gc.controller';

@Global()
@Module({ controllers: [GcController], providers: [GarbageCollector], exports: [GarbageCollector] })
export class GcModule {}
