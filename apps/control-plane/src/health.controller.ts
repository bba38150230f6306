import { Controller, Get } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { problems } from './common/problem';
import { Public } from './identity/decorators';

/** Liveness and readiness of the control plane itself. */
@Controller()
@ApiExcludeController()
export class HealthController {
  constructor(private readonly db: DataSource) {}

  @Get('healthz')
  @Public()
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('readyz')
  @Public()
  async ready(): Promise<{ status: 'ready' }> {
    try {
      await this.db.query('SELECT 1');
    } catch {
      throw problems.unavailable('the database is unreachable');
    }
    return { status: 'ready' };
  }
}
