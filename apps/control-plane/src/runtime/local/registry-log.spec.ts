import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { closeSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RegistryLog, lastRunLines } from './registry-log';

describe('RegistryLog', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-registry-log-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('returns the lines of the last run only, without the supervisor lines', async () => {
    const log = new RegistryLog(join(dir, 'a.log'), 1024 * 1024);
    log.event('info', 'spawn', 'starting');
    let fd = log.openForChild();
    writeSync(fd, 'first run 1\nfirst run 2\n');
    closeSync(fd);
    log.event('warn', 'exit', 'exited');
    log.event('info', 'spawn', 'starting');
    fd = log.openForChild();
    writeSync(
      fd,
      'berth: invalid configuration:\n  - DATABASE_URL=<redacted> is not a valid URL\n',
    );
    closeSync(fd);
    log.event('warn', 'exit', 'exited');
    assert.deepEqual(log.lastRunLines(), [
      'berth: invalid configuration:',
      '  - DATABASE_URL=<redacted> is not a valid URL',
    ]);
    const events = (await readFile(log.path, 'utf8'))
      .split('\n')
      .filter((line) => line.includes('"service":"berth-runtime"'))
      .map((line) => JSON.parse(line) as { level: number; event: string; msg: string });
    assert.deepEqual(
      events.map((e) => [e.level, e.event]),
      [
        [30, 'spawn'],
        [40, 'exit'],
        [30, 'spawn'],
        [40, 'exit'],
      ],
    );
  });

  it('keeps the last lines only and is empty without a log', () => {
    const text = Array.from({ length: 80 }, (_, i) => `line ${i}`).join('\n');
    assert.deepEqual(lastRunLines(text, true, 3), ['line 77', 'line 78', 'line 79']);
    assert.deepEqual(lastRunLines(text, false, 100).length, 79); // partial first line dropped
    assert.deepEqual(new RegistryLog(join(dir, 'none.log'), 10).lastRunLines(), []);
  });

  it('rotates a log grown past the limit when a child starts', async () => {
    const path = join(dir, 'big.log');
    await writeFile(path, 'x'.repeat(200));
    const fd = new RegistryLog(path, 100).openForChild();
    writeSync(fd, 'new\n');
    closeSync(fd);
    assert.equal(await readFile(path, 'utf8'), 'new\n');
    assert.equal((await readFile(`${path}.1`, 'utf8')).length, 200);
  });
});
