import { Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import { ApiBasicAuth, ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { QueueService, UnknownJobError, type JobRecord } from '@berth/queue';
import { OciError, OciErrorCode } from '@berth/oci';
import { AdminOnly } from '../auth/auth.decorators';

/** Background jobs: history and manual triggers. */
@Controller('admin/v1/jobs')
@AdminOnly()
@ApiTags('lifecycle')
@ApiBasicAuth()
@ApiBearerAuth()
export class JobsController {
  constructor(private readonly queue: QueueService) {}

  @Get()
  @ApiOperation({ summary: 'Job history, newest first' })
  history(
    @Query('queue') queue?: string,
    @Query('name') name?: string,
    @Query('limit') limit?: string,
  ): Promise<JobRecord[]> {
    const n = limit === undefined ? 100 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw invalid('limit must be 1..1000');
    return this.queue.history({ queue, name, limit: n });
  }

  @Get('definitions')
  @ApiOperation({ summary: 'The jobs that can be triggered' })
  definitions(): { queue: string; name: string }[] {
    return this.queue.jobs.map((j) => ({ queue: j.queue, name: j.name }));
  }

  @Post(':queue/:name')
  @ApiOperation({ summary: 'Run a job now (payload as the JSON body)' })
  async trigger(
    @Param('queue') queue: string,
    @Param('name') name: string,
    @Body() body: unknown,
  ): Promise<JobRecord> {
    try {
      return await this.queue.trigger(queue, name, body ?? {});
    } catch (err) {
      if (err instanceof UnknownJobError) {
        throw new OciError(OciErrorCode.UNSUPPORTED, `no job ${queue}/${name}`, { status: 404 });
      }
      throw err;
    }
  }
}

function invalid(message: string): OciError {
  return new OciError(OciErrorCode.UNSUPPORTED, message, { status: 400 });
}
