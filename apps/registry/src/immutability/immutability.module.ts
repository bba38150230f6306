import { Global, Module } from '@nestjs/common';
import { ImmutabilityController } from './immutability.controller';
import { ImmutabilityService } from './immutability.service';

@Global()
@Module({
  controllers: [ImmutabilityController],
  providers: [ImmutabilityService],
  exports: [ImmutabilityService],
})
export class ImmutabilityModule {}
