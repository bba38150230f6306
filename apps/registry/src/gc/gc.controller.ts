import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import {
  ApiBasicAuth,
  ApiBearerAuth,
  ApiBody,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { AuditAction } from '../audit/audit-event';
import { AuditService } from '../audit/audit.service';
import { AdminOnly, CurrentCaller, type Caller } from '../auth/auth.decorators';
import { GarbageCollector, type GcOptions, type GcReport } from './garbage-collector';
import { badRequest } from '../admin/admin-errors';

class GcRequestDto {
  @ApiPropertyOptional({ description: 'report what would be freed, delete nothing' })
  dryRun?: boolean;
  @ApiPropertyOptional({ description: 'seconds; default 3600' }) graceSeconds?: number;
  @ApiPropertyOptional({ description: 'collect unreachable manifests too; default true' })
  untaggedManifests?: boolean;
}

class GcRunDto {
  @ApiProperty() id!: string;
  @ApiProperty() startedAt!: string;
  @ApiProperty({ nullable: true }) finishedAt!: string | null;
  @ApiProperty() dryRun!: boolean;
  @ApiProperty() blobsDeleted!: number;
  @ApiProperty() bytesFreed!: number;
  @ApiProperty() manifestsDeleted!: number;
  @ApiProperty() uploadsDeleted!: number;
  @ApiProperty({ nullable: true }) error!: string | null;
}

@Controller('admin/v1/gc')
@AdminOnly()
@ApiTags('lifecycle')
@ApiBasicAuth()
@ApiBearerAuth()
export class GcController {
  constructor(
    private readonly gc: GarbageCollector,
    private readonly audit: AuditService,
    private readonly db: DataSource,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'Collect garbage now (or report what would be freed with dryRun)' })
  @ApiBody({ type: GcRequestDto, required: false })
  async run(@Body() body: unknown, @CurrentCaller() caller: Caller): Promise<GcReport> {
    const report = await this.gc.run(parseGcRequest(body));
    if (!report.dryRun) {
      await this.audit.record({
        action: AuditAction.AdminChange,
        result: 'success',
        caller,
        detail: { change: 'gc.run', ...report },
      });
    }
    return report;
  }

  @Get('runs')
  @ApiOperation({ summary: 'The last 100 collections, newest first' })
  async runs(): Promise<GcRunDto[]> {
    const rows: {
      id: string;
      started_at: Date;
      finished_at: Date | null;
      dry_run: boolean;
      blobs_deleted: number;
      bytes_freed: string;
      manifests_deleted: number;
      uploads_deleted: number;
      error: string | null;
    }[] = await this.db.query('SELECT * FROM gc_runs ORDER BY started_at DESC LIMIT 100');
    return rows.map((r) => ({
      id: r.id,
      startedAt: r.started_at.toISOString(),
      finishedAt: r.finished_at ? r.finished_at.toISOString() : null,
      dryRun: r.dry_run,
      blobsDeleted: r.blobs_deleted,
      bytesFreed: Number(r.bytes_freed),
      manifestsDeleted: r.manifests_deleted,
      uploadsDeleted: r.uploads_deleted,
      error: r.error,
    }));
  }
}

export function parseGcRequest(body: unknown): Partial<GcOptions> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body))
    throw badRequest('body must be a JSON object');
  const o = body as Record<string, unknown>;
  const options: Partial<GcOptions> = {};
  if (o.dryRun !== undefined) {
    if (typeof o.dryRun !== 'boolean') throw badRequest('dryRun must be a boolean');
    options.dryRun = o.dryRun;
  }
  if (o.graceSeconds !== undefined) {
    if (
      typeof o.graceSeconds !== 'number' ||
      !Number.isInteger(o.graceSeconds) ||
      o.graceSeconds < 0
    ) {
      throw badRequest('graceSeconds must be a whole number of seconds');
    }
    options.graceSeconds = o.graceSeconds;
  }
  if (o.untaggedManifests !== undefined) {
    if (typeof o.untaggedManifests !== 'boolean')
      throw badRequest('untaggedManifests must be a boolean');
    options.untaggedManifests = o.untaggedManifests;
  }
  return options;
}
