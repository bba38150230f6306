import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import type { StorageDriver } from '@berth/storage';
import { Public } from '../auth/auth.decorators';
import { MetricsService } from '../observability/metrics.service';
import { STORAGE_DRIVER } from '../storage/storage.module';

/** Liveness, readiness (database and storage reachable) and Prometheus metrics. */
@Controller()
@Public()
export class HealthController {
  constructor(
    private readonly db: DataSource,
    @Inject(STORAGE_DRIVER) private readonly storage: StorageDriver,
    private readonly metrics: MetricsService,
  ) {}

  @Get('healthz')
  healthz(): { status: string } {
    return { status: 'ok' };
  }

  @Get('readyz')
  async readyz(@Res() reply: FastifyReply): Promise<void> {
    const checks = await Promise.allSettled([this.db.query('SELECT 1'), this.storage.ping()]);
    const [database, storage] = checks.map((c) =>
      c.status === 'fulfilled' ? 'ok' : String(c.reason),
    );
    const ready = database === 'ok' && storage === 'ok';
    await reply
      .status(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'not ready', database, storage });
  }

  @Get('metrics')
  async prometheus(@Res() reply: FastifyReply): Promise<void> {
    const { contentType, body } = await this.metrics.render();
    await reply.status(200).header('Content-Type', contentType).send(body);
  }
}
