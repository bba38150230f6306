import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import {
  ApiBasicAuth,
  ApiBearerAuth,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AdminOnly } from '../auth/auth.decorators';
import { AuditEventStream } from './audit-event-stream';
import { AuditAction } from './audit-event';
import {
  parseExportQuery,
  parseLastEventId,
  parseListQuery,
  parseStreamQuery,
} from './audit-query';
import { AuditService, MAX_AUDIT_PAGE, type AuditPage } from './audit.service';

const INSTANT_HELP = 'ISO 8601 date-time with a zone (2024-11-25T10:00:00Z) or a UTC date';

/** Query parameters shared by the list and the export. */
function FilterQueries(): MethodDecorator {
  return (target, key, descriptor) => {
    for (const decorator of [
      ApiQuery({
        name: 'from',
        required: false,
        type: String,
        description: `Inclusive; ${INSTANT_HELP}`,
      }),
      ApiQuery({
        name: 'to',
        required: false,
        type: String,
        description: `Exclusive; ${INSTANT_HELP}`,
      }),
      ApiQuery({
        name: 'principal',
        required: false,
        type: String,
        description: 'Principal name (exact)',
      }),
      ApiQuery({ name: 'action', required: false, enum: AuditAction }),
      ApiQuery({
        name: 'repository',
        required: false,
        type: String,
        description: 'Repository name (exact)',
      }),
    ]) {
      decorator(target, key, descriptor);
    }
  };
}

/** The audit log of the registry (admin API). */
@ApiTags('audit')
@ApiBasicAuth()
@ApiBearerAuth()
@Controller('admin/v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @AdminOnly()
  @ApiOperation({ summary: 'Audit events, newest first, a page at a time' })
  @FilterQueries()
  @ApiQuery({
    name: 'cursor',
    required: false,
    type: String,
    description: 'nextCursor of the previous page',
  })
  @ApiQuery({
    name: 'limit',
    required: false,
    type: 'integer',
    description: `1 to ${MAX_AUDIT_PAGE}, default 100`,
  })
  @ApiOkResponse({ description: '{ events, nextCursor? }' })
  async list(@Query() query: Record<string, unknown>): Promise<AuditPage> {
    const { filter, cursor, limit } = parseListQuery(query);
    return this.audit.query(filter, cursor, limit);
  }

  @Get('export')
  @AdminOnly()
  @ApiOperation({ summary: 'All matching audit events, oldest first, streamed as CSV or NDJSON' })
  @FilterQueries()
  @ApiQuery({ name: 'format', required: true, enum: ['csv', 'ndjson'] })
  @ApiProduces('text/csv', 'application/x-ndjson')
  async export(@Query() query: Record<string, unknown>, @Res() reply: FastifyReply): Promise<void> {
    const { filter, format } = parseExportQuery(query);
    const stamp = new Date()
      .toISOString()
      .replace(/\.\d+Z$/, 'Z')
      .replace(/[-:]/g, '');
    await reply
      .status(200)
      .header('Content-Type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
      .header('Content-Disposition', `attachment; filename="berth-audit-${stamp}.${format}"`)
      .header('Cache-Control', 'no-store')
      .send(this.audit.export(filter, format));
  }

  @Get('stream')
  @AdminOnly()
  @ApiOperation({
    summary: 'New audit events as server-sent events (id: event id, data: event JSON)',
  })
  @ApiQuery({ name: 'principal', required: false, type: String })
  @ApiQuery({ name: 'action', required: false, enum: AuditAction })
  @ApiQuery({ name: 'repository', required: false, type: String })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'Replay the events after this id first',
  })
  @ApiProduces('text/event-stream')
  async stream(
    @Query() query: Record<string, unknown>,
    @Headers('last-event-id') lastEventId: string | string[] | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const filter = parseStreamQuery(query);
    const after = parseLastEventId(lastEventId);
    reply.hijack();
    // Headers set by hooks (X-Request-Id) go out with the hijacked response too.
    const headers = Object.entries(reply.getHeaders()).map(([name, value]) => [
      name,
      typeof value === 'number' ? String(value) : value,
    ]);
    const stream = new AuditEventStream(this.audit, reply.raw, filter, {
      headers: Object.fromEntries(headers) as Record<string, string | string[] | undefined>,
    });
    await stream.start(after);
  }
}
