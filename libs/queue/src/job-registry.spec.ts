import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineJob, jobKey, type JobContext } from './job-definition';
import { JobHandler, jobHandlersOf } from './job-handler.decorator';
import { JobRegistry, JobRegistryError } from './job-registry';
import { UnknownJobError, type JobHandlerBinding } from './queue-driver';

const sendMail = defineJob<{ to: string }>({ queue: 'mail', name: 'send' });
const purge = defineJob<{ olderThanDays: number }>({ queue: 'maintenance', name: 'purge' });

const binding = (
  definition: typeof sendMail | typeof purge,
  source: string,
): JobHandlerBinding => ({
  definition,
  source,
  handle: () => Promise.resolve(source),
});

function registryError(fn: () => unknown): JobRegistryError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof JobRegistryError, `expected JobRegistryError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the registry to throw');
}

describe('JobRegistry', () => {
  it('maps every declared job to its one handler', async () => {
    const registry = new JobRegistry(
      [sendMail, purge],
      [binding(sendMail, 'Mail.send'), binding(purge, 'Maintenance.purge')],
    );
    assert.deepEqual([...registry.handlers.keys()], ['mail/send', 'maintenance/purge']);
    const handler = registry.handlers.get(jobKey(sendMail));
    assert.equal(handler?.source, 'Mail.send');
    assert.equal(await handler.handle({}, {} as JobContext), 'Mail.send');
    assert.deepEqual(registry.jobs, [sendMail, purge]);
    assert.equal(registry.find('mail', 'send'), sendMail);
    assert.equal(registry.find('mail', 'nope'), undefined);
    assert.throws(() => registry.require('mail', 'nope'), UnknownJobError);
  });

  it('fails when a declared job has no handler', () => {
    const error = registryError(
      () => new JobRegistry([sendMail, purge], [binding(sendMail, 'Mail.send')]),
    );
    assert.deepEqual(error.problems, [
      'job maintenance/purge has no handler: add @JobHandler(...) to one provider method',
    ]);
    assert.match(error.message, /queue start-up failed, 1 problem/);
  });

  it('fails when a job has two handlers, naming both', () => {
    const error = registryError(
      () =>
        new JobRegistry(
          [sendMail],
          [binding(sendMail, 'Mail.send'), binding(sendMail, 'LegacyMail.send')],
        ),
    );
    assert.deepEqual(error.problems, [
      'job mail/send has 2 handlers (Mail.send, LegacyMail.send); exactly one is allowed',
    ]);
  });

  it('fails when a handler names an undeclared job', () => {
    const error = registryError(
      () =>
        new JobRegistry(
          [sendMail],
          [binding(sendMail, 'Mail.send'), binding(purge, 'Maint.purge')],
        ),
    );
    assert.deepEqual(error.problems, [
      'Maint.purge handles job maintenance/purge, which is not declared in QueueModule.forRoot({ jobs })',
    ]);
  });

  it('reports every problem at once', () => {
    const error = registryError(
      () => new JobRegistry([sendMail], [binding(purge, 'A.purge'), binding(purge, 'B.purge')]),
    );
    assert.equal(error.problems.length, 3);
  });

  it('fails on conflicting definitions of one job', () => {
    const retried = defineJob<{ to: string }>({ queue: 'mail', name: 'send', attempts: 9 });
    assert.match(
      registryError(() => new JobRegistry([sendMail, retried], [binding(sendMail, 'M.s')])).message,
      /declared twice with different options/,
    );
    assert.match(
      registryError(() => new JobRegistry([sendMail], [binding(retried, 'M.s')])).message,
      /options that differ from its declaration/,
    );
    // The same job declared twice identically is fine.
    assert.equal(
      new JobRegistry([sendMail, { ...sendMail }], [binding(sendMail, 'M.s')]).jobs.length,
      1,
    );
  });
});

describe('@JobHandler', () => {
  class Base {
    calls: string[] = [];
    @JobHandler(purge)
    purge(payload: { olderThanDays: number }): number {
      this.calls.push(`purge ${payload.olderThanDays}`);
      return payload.olderThanDays;
    }
  }
  class MailJobs extends Base {
    @JobHandler(sendMail)
    async send(payload: { to: string }, job: JobContext): Promise<string> {
      await Promise.resolve();
      this.calls.push(`send ${payload.to} #${job.attempt}`);
      return payload.to;
    }

    notAHandler(): void {}
  }

  it('binds decorated methods (own and inherited) to their instance', async () => {
    const instance = new MailJobs();
    const bindings = jobHandlersOf(instance);
    assert.deepEqual(bindings.map((b) => b.source).sort(), ['MailJobs.purge', 'MailJobs.send']);
    const registry = new JobRegistry([sendMail, purge], bindings);
    const context = { attempt: 2 } as JobContext;
    assert.equal(await registry.handlers.get('mail/send')?.handle({ to: 'a@b' }, context), 'a@b');
    assert.equal(
      await registry.handlers.get('maintenance/purge')?.handle({ olderThanDays: 3 }, context),
      3,
    );
    assert.deepEqual(instance.calls, ['send a@b #2', 'purge 3']);
  });

  it('refuses two jobs on one method', () => {
    assert.throws(() => {
      class Twice {
        @JobHandler(sendMail)
        @JobHandler(sendMail)
        send(): void {}
      }
      return Twice;
    }, /a method handles one job, it already handles mail\/send/);
  });
});

describe('defineJob', () => {
  it('validates names and options', () => {
    assert.throws(() => defineJob({ queue: 'a:b', name: 'x' }), /queue name must match/);
    assert.throws(() => defineJob({ queue: 'a', name: '' }), /job name must match/);
    assert.throws(() => defineJob({ queue: 'a', name: 'x', attempts: 0 }), /attempts/);
    assert.throws(() => defineJob({ queue: 'a', name: 'x', backoffMs: -1 }), /backoffMs/);
    assert.throws(() => defineJob({ queue: 'a', name: 'x', timeoutMs: 0 }), /timeoutMs/);
    assert.ok(Object.isFrozen(defineJob({ queue: 'a', name: 'x' })));
  });
});
