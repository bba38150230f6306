import { Global, Module } from '@nestjs/common';
import { WriteGateController } from './write-gate.controller';
import { WriteGateService } from './write-gate.service';

/** The disk quota and maintenance switch. Global: uploads and manifest pushes consult it. */
@Global()
@Module({
  controllers: [WriteGateController],
  providers: [WriteGateService],
  exports: [WriteGateService],
})
export class WriteGateModule {}
