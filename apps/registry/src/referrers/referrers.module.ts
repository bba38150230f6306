import { Module } from '@nestjs/common';
import { RepositoriesModule } from '../repositories/repositories.module';
import { ReferrersController } from './referrers.controller';
import { ReferrersService } from './referrers.service';

@Module({
  imports: [RepositoriesModule],
  controllers: [ReferrersController],
  providers: [ReferrersService],
})
export class ReferrersModule {}
