import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { BlobsModule } from '../blobs/blobs.module';
import { ManifestsModule } from '../manifests/manifests.module';
import { ReferrersModule } from '../referrers/referrers.module';
import { TagsModule } from '../tags/tags.module';
import { UploadsModule } from '../uploads/uploads.module';
import { BaseController } from './base.controller';
import { OciExceptionFilter } from './oci-exception.filter';

/** The OCI Distribution API (`/v2`), assembled from its bounded contexts. */
@Module({
  imports: [BlobsModule, UploadsModule, ManifestsModule, TagsModule, ReferrersModule],
  controllers: [BaseController],
  providers: [{ provide: APP_FILTER, useClass: OciExceptionFilter }],
})
export class DistributionModule {}
