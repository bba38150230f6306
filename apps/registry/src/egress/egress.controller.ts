import { Controller, Get, Query } from '@nestjs/common';
import {
  ApiBasicAuth,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { EgressReport } from '@berth/platform-contracts';
import { AdminOnly } from '../auth/auth.decorators';
import { EgressReportDto } from './egress.dto';
import { parseEgressSince } from './egress-hour';
import { EgressService } from './egress.service';

/** Egress metering (admin API; the control plane bills from it). */
@Controller('admin/v1/egress')
@AdminOnly()
@ApiTags('lifecycle')
@ApiBasicAuth()
@ApiBearerAuth()
export class EgressController {
  constructor(private readonly egress: EgressService) {}

  @Get()
  @ApiOperation({
    summary:
      'Bytes served per UTC hour, repository and principal from `since` on (absolute totals: fetching an hour again replaces it)',
  })
  @ApiQuery({
    name: 'since',
    required: true,
    example: '2026-11-23T09:00:00Z',
    description: 'Start of a UTC hour, ISO 8601',
  })
  @ApiOkResponse({ type: EgressReportDto })
  report(@Query('since') since: unknown): Promise<EgressReport> {
    return this.egress.report(parseEgressSince(since));
  }
}
