import { Module } from '@nestjs/common';
import { BlobsModule } from '../blobs/blobs.module';
import { UploadService } from './upload.service';
import { UploadsController } from './uploads.controller';

@Module({
  imports: [BlobsModule],
  controllers: [UploadsController],
  providers: [UploadService],
  exports: [UploadService],
})
export class UploadsModule {}
