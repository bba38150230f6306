import { Body, Controller, Get, Put } from '@nestjs/common';
import {
  ApiBasicAuth,
  ApiBearerAuth,
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { WriteGateStatus } from '@berth/platform-contracts';
import { AuthAudit } from '../auth/auth-audit';
import { AdminOnly, CurrentCaller, type Caller } from '../auth/auth.decorators';
import { WriteGateSettingsDto, WriteGateStatusDto } from './write-gate.dto';
import { parseWriteGateSettings } from './write-gate-policy';
import { WriteGateService } from './write-gate.service';

/** The disk quota and the maintenance switch (admin API; the control plane drives it). */
@Controller('admin/v1/write-gate')
@AdminOnly()
@ApiTags('lifecycle')
@ApiBasicAuth()
@ApiBearerAuth()
export class WriteGateController {
  constructor(
    private readonly gate: WriteGateService,
    private readonly audit: AuthAudit,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Quota, maintenance switch, whether pushes are accepted, usage (fresh)',
  })
  @ApiOkResponse({ type: WriteGateStatusDto })
  status(): Promise<WriteGateStatus> {
    return this.gate.status();
  }

  @Put()
  @ApiOperation({
    summary: 'Replace the quota and the maintenance switch (null clears either)',
  })
  @ApiBody({ type: WriteGateSettingsDto })
  @ApiOkResponse({ type: WriteGateStatusDto })
  async replace(@Body() body: unknown, @CurrentCaller() caller: Caller): Promise<WriteGateStatus> {
    const settings = parseWriteGateSettings(body);
    const status = await this.gate.replace(settings);
    await this.audit.admin(caller, 'write-gate.set', {
      quota: settings.quota,
      maintenance: settings.maintenance,
      writable: status.writable,
    });
    return status;
  }
}
