import { Global, Module } from '@nestjs/common';
import { ManifestsModule } from '../manifests/manifests.module';
import { GarbageCollector } from './garbage-collector';
import { GcController } from './gc.controller';

@Global()
@Module({
  imports: [ManifestsModule],
  controllers: [GcController],
  providers: [GarbageCollector],
  exports: [GarbageCollector],
})
export class GcModule {}
