import { Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import { ApiBasicAuth, ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { QueueService, UnknownJobError, type JobRecord } from '@berth/queue';
import { AdminOnly } from '../auth/auth.decorators';
import { badRequest, notFound } from '../admin/admin-errors';

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
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw badRequest('limit must be 1..1000');
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
        throw notFound(`no job ${queue}/${name}`);
      }
      throw err;
    }
  }
}
