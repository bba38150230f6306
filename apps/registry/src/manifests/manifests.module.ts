import { Module } from '@nestjs/common';
import { RepositoriesModule } from '../repositories/repositories.module';
import { ManifestService } from './manifest.service';
import { ManifestsController } from './manifests.controller';

@Module({
  imports: [RepositoriesModule],
  controllers: [ManifestsController],
  providers: [ManifestService],
  exports: [ManifestService],
})
export class ManifestsModule {}
