import { Module } from '@nestjs/common';
import { RepositoriesModule } from '../repositories/repositories.module';
import { ListingService } from './listing.service';
import { TagsController } from './tags.controller';

@Module({
  imports: [RepositoriesModule],
  controllers: [TagsController],
  providers: [ListingService],
  exports: [ListingService],
})
export class TagsModule {}
