import { Controller, Get } from '@nestjs/common';
import { ApiBasicAuth, ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../auth/auth.decorators';
import { UsageService, type StorageUsage } from './usage.service';

@Controller('admin/v1/usage')
@AdminOnly()
@ApiTags('lifecycle')
@ApiBasicAuth()
@ApiBearerAuth()
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  @Get()
  @ApiOperation({ summary: 'Storage used: deduplicated blob bytes plus open uploads' })
  current(): Promise<StorageUsage> {
    return this.usage.current();
  }
}
