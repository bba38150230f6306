import { Module } from '@nestjs/common';
import { BlobsModule } from '../blobs/blobs.module';
import { REGISTRY_CONFIG } from '../config/config.tokens';
import type { RegistryConfig } from '../config/registry-config';
import { HashPool } from './hashing/hash-pool';
import { UploadService } from './upload.service';
import { UploadsController } from './uploads.controller';

@Module({
  imports: [BlobsModule],
  controllers: [UploadsController],
  providers: [
    UploadService,
    {
      provide: HashPool,
      inject: [REGISTRY_CONFIG],
      useFactory: (config: RegistryConfig) => new HashPool({ workers: config.hashWorkers }),
    },
  ],
  exports: [UploadService],
})
export class UploadsModule {}
