import { Injectable, Module, type INestApplicationContext, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InProcessQueueDriver } from './in-process-queue.driver';
import { defineJob, type JobContext } from './job-definition';
import { JobHandler } from './job-handler.decorator';
import { JobRegistryError } from './job-registry';
import { QueueModule } from './queue.module';
import { QueueService } from './queue.service';
import { UnknownJobError } from './queue-driver';
import { waitForState } from './testing/queue-driver.suite';

const sendMail = defineJob<{ to: string }>({ queue: 'mail', name: 'send', attempts: 1 });
const purge = defineJob<{ days: number }>({ queue: 'maintenance', name: 'purge', attempts: 1 });

@Injectable()
class Mailer {
  readonly sent: string[] = [];
}

@Injectable()
class MailJobs {
  constructor(private readonly mailer: Mailer) {}

  @JobHandler(sendMail)
  async send(payload: { to: string }, job: JobContext): Promise<{ sent: string }> {
    await Promise.resolve();
    job.log(`sending to ${payload.to}`);
    this.mailer.sent.push(payload.to);
    return { sent: payload.to };
  }
}

@Injectable()
class MaintenanceJobs {
  @JobHandler(purge)
  purge(payload: { days: number }): string {
    return `purged ${payload.days}`;
  }
}

@Injectable()
class DuplicateMailJobs {
  @JobHandler(sendMail)
  send(): void {}
}

async function createContext(module: Type<unknown>): Promise<INestApplicationContext> {
  return NestFactory.createApplicationContext(module, { logger: false, abortOnError: false });
}

describe('QueueModule', () => {
  it('discovers @JobHandler methods on providers and runs their jobs', async () => {
    @Module({
      imports: [
        QueueModule.forRoot({ driver: new InProcessQueueDriver(), jobs: [sendMail, purge] }),
      ],
      providers: [Mailer, MailJobs, MaintenanceJobs],
    })
    class AppModule {}

    const app = await createContext(AppModule);
    try {
      const queue = app.get(QueueService);
      assert.equal(queue.role, 'all');
      assert.deepEqual(
        queue.jobs.map((j) => `${j.queue}/${j.name}`),
        ['mail/send', 'maintenance/purge'],
      );
      const job = await queue.enqueue(sendMail, { to: 'ops@example.com' });
      const done = await waitForState(queue, job.id, ['completed', 'failed']);
      assert.equal(done.state, 'completed', done.error);
      assert.deepEqual(done.result, { sent: 'ops@example.com' });
      assert.deepEqual(done.logs, ['sending to ops@example.com']);
      assert.deepEqual(app.get(Mailer).sent, ['ops@example.com']);

      const triggered = await queue.trigger('maintenance', 'purge', { days: 7 });
      const purged = await waitForState(queue, triggered.id, ['completed']);
      assert.equal(purged.result, 'purged 7');
      assert.throws(() => queue.trigger('maintenance', 'nope', {}), UnknownJobError);
      assert.equal((await queue.history({ queue: 'mail' })).length, 1);
    } finally {
      await app.close();
    }
  });

  it('fails application init when a job has two handlers', async () => {
    @Module({
      imports: [QueueModule.forRoot({ driver: new InProcessQueueDriver(), jobs: [sendMail] })],
      providers: [Mailer, MailJobs, DuplicateMailJobs],
    })
    class AppModule {}

    await assert.rejects(createContext(AppModule), (error: unknown) => {
      assert.ok(error instanceof JobRegistryError);
      assert.match(
        error.message,
        /job mail\/send has 2 handlers \((MailJobs\.send, DuplicateMailJobs\.send|DuplicateMailJobs\.send, MailJobs\.send)\)/,
      );
      return true;
    });
  });

  it('fails application init when a declared job has no handler', async () => {
    @Module({
      imports: [
        QueueModule.forRoot({ driver: new InProcessQueueDriver(), jobs: [sendMail, purge] }),
      ],
      providers: [Mailer, MailJobs],
    })
    class AppModule {}

    await assert.rejects(createContext(AppModule), /job maintenance\/purge has no handler/);
  });

  it('builds the driver from injected configuration with forRootAsync', async () => {
    const CONFIG = Symbol('CONFIG');
    @Module({
      providers: [{ provide: CONFIG, useValue: { role: 'producer' as const } }],
      exports: [CONFIG],
    })
    class ConfigModule {}

    @Module({
      imports: [
        QueueModule.forRootAsync({
          imports: [ConfigModule],
          inject: [CONFIG],
          useFactory: (config: { role: 'producer' }) => ({
            driver: new InProcessQueueDriver(),
            jobs: [purge],
            role: config.role,
          }),
        }),
      ],
      providers: [MaintenanceJobs],
    })
    class AppModule {}

    const app = await createContext(AppModule);
    try {
      const queue = app.get(QueueService);
      assert.equal(queue.role, 'producer');
      const job = await queue.enqueue(purge, { days: 1 });
      assert.equal(job.state, 'waiting');
    } finally {
      await app.close();
    }
  });
});
