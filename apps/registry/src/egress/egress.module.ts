import { Global, Module } from '@nestjs/common';
import { EgressController } from './egress.controller';
import { EgressService } from './egress.service';

/** Egress metering. Global: blob and manifest downloads record what they serve. */
@Global()
@Module({
  controllers: [EgressController],
  providers: [EgressService],
  exports: [EgressService],
})
export class EgressModule {}
