import { Module } from '@nestjs/common';
import { RepositoriesModule } from '../repositories/repositories.module';
import { BlobService } from './blob.service';
import { BlobsController } from './blobs.controller';

@Module({
  imports: [RepositoriesModule],
  controllers: [BlobsController],
  providers: [BlobService],
  exports: [BlobService],
})
export class BlobsModule {}
