import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Client } from 'pg';
import type { Caller } from '../auth/auth.decorators';
import { startTestRegistry, type TestRegistry } from '../testing/test-registry';
import { AuditEventStream } from './audit-event-stream';
import { AuditAction, type AuditEvent, type AuditEventInput } from './audit-event';
import { AuditService, type AuditPage } from './audit.service';

// A full GC on demand (as with --expose-gc) for the memory test's settled figures.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let registry: TestRegistry;
let audit: AuditService;
/** A separate connection for raw SQL: bulk inserts and the append-only checks. */
let sql: Client;

const ADMIN = { user: 'admin', password: 'audit-admin-password' };

/** Every admin API call goes through here, with the administrator's credentials. */
async function adminFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set(
    'Authorization',
    `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}`,
  );
  return fetch(`${registry.url}${path}`, { ...init, headers });
}

async function page(query: string): Promise<AuditPage> {
  const res = await adminFetch(`/admin/v1/audit?${query}`);
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as AuditPage;
}

async function badRequest(path: string, init: RequestInit = {}): Promise<string> {
  const res = await adminFetch(path, init);
  const body = (await res.json()) as { errors?: { message: string }[] };
  assert.equal(res.status, 400, JSON.stringify(body));
  return body.errors?.[0]?.message ?? '';
}

function caller(name: string, extra: Partial<Caller> = {}): Caller {
  return { name, kind: 'user', ip: '192.0.2.10', requestId: `req-${name}`, ...extra };
}

async function record(input: Partial<AuditEventInput> & { caller: Caller }): Promise<void> {
  await audit.record({ action: AuditAction.ManifestPull, result: 'success', ...input });
}

/** Inserts `count` events of `principal` at `base + n * stepSeconds` (n = 0..count-1) directly. */
async function insertAt(
  principal: string,
  base: string,
  count: number,
  stepSeconds: number,
): Promise<void> {
  await sql.query(
    `INSERT INTO audit_events (at, principal, client_ip, action, repository, reference, result)
     SELECT $2::timestamptz + make_interval(secs => (g - 1) * $4), $1, '192.0.2.1',
            'manifest.push', 'timeline/app', 'v' || g, 'success'
       FROM generate_series(1, $3::int) g`,
    [principal, base, count, stepSeconds],
  );
}

/** Reads server-sent events from a fetch response, one at a time. */
function sseReader(res: Response): {
  next(timeoutMs?: number): Promise<{ id?: string; data?: string; comments: string[] }>;
  cancel(): Promise<void>;
} {
  assert.ok(res.body);
  const reader = res.body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  const decoder = new TextDecoder();
  let buffer = '';
  return {
    async next(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end !== -1) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: { id?: string; data?: string; comments: string[] } = { comments: [] };
          for (const line of frame.split('\n')) {
            if (line.startsWith(':')) event.comments.push(line.slice(1).trim());
            else if (line.startsWith('id: ')) event.id = line.slice(4);
            else if (line.startsWith('data: ')) event.data = line.slice(6);
          }
          return event;
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no server-sent event within ${timeoutMs} ms`);
        const chunk = await Promise.race([
          reader.read(),
          sleep(left).then(() => ({ done: false, value: undefined, timeout: true })),
        ]);
        if ('timeout' in chunk) continue;
        if (chunk.done) throw new Error('event stream ended');
        buffer += decoder.decode(chunk.value, { stream: true });
      }
    },
    cancel: () => reader.cancel(),
  };
}

/** The next event frame (skipping comment-only frames), parsed. */
async function nextEvent(stream: ReturnType<typeof sseReader>): Promise<AuditEvent> {
  for (;;) {
    const frame = await stream.next();
    if (frame.data === undefined) continue;
    const event = JSON.parse(frame.data) as AuditEvent;
    assert.equal(frame.id, event.id);
    return event;
  }
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await sleep(10);
  assert.ok(condition(), what);
}

/** A small RFC 4180 parser (quoted fields may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"' && field === '') {
      i++;
      for (;;) {
        const quote = text.indexOf('"', i);
        assert.notEqual(quote, -1, 'unterminated quoted field');
        field += text.slice(i, quote);
        i = quote + 1;
        if (text[i] !== '"') break;
        field += '"';
        i++;
      }
    } else if (c === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 2;
    } else {
      assert.ok(c !== '"' && c !== '\n' && c !== '\r', `bare ${JSON.stringify(c)} at ${i}`);
      field += c;
      i++;
    }
  }
  assert.equal(field, '', 'last line must end with CRLF');
  assert.equal(row.length, 0, 'last line must end with CRLF');
  return rows;
}

describe('audit log (PostgreSQL, admin API)', () => {
  before(async () => {
    registry = await startTestRegistry({
      REGISTRY_AUTH: 'token',
      REGISTRY_ADMIN_USER: ADMIN.user,
      REGISTRY_ADMIN_PASSWORD: ADMIN.password,
    });
    audit = registry.running.app.get(AuditService);
    sql = new Client({ connectionString: registry.databaseUrl });
    await sql.connect();
  });
  after(async () => {
    await sql.end();
    await registry.close();
  });

  it('records events with the caller, and a database error reaches the caller', async () => {
    const principalId = '3f9c1f0e-6a7b-4c1d-9e2f-0a1b2c3d4e5f';
    await audit.record({
      action: AuditAction.ManifestPush,
      result: 'success',
      caller: caller('recorder', { principalId, ip: '2001:db8::1', requestId: 'req-42' }),
      repository: 'team/app',
      reference: 'v1',
      detail: { digest: 'sha256:abc', size: 1234 },
    });
    const { events } = await page('principal=recorder');
    assert.equal(events.length, 1);
    const [event] = events;
    assert.ok(event);
    assert.match(event.id, /^\d+$/);
    assert.match(event.at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    assert.ok(Math.abs(Date.parse(event.at) - Date.now()) < 60_000);
    assert.deepEqual(
      { ...event, id: undefined, at: undefined },
      {
        id: undefined,
        at: undefined,
        principal: 'recorder',
        principalId,
        clientIp: '2001:db8::1',
        action: 'manifest.push',
        repository: 'team/app',
        reference: 'v1',
        result: 'success',
        requestId: 'req-42',
        detail: { digest: 'sha256:abc', size: 1234 },
      },
    );
    await assert.rejects(
      audit.record({
        action: AuditAction.AuthFailure,
        result: 'failure',
        caller: caller('broken', { principalId: 'not-a-uuid' }),
      }),
      /uuid/,
    );
  });

  it('batches pull events, and hands live subscribers full events however late they subscribe', async () => {
    const pull = (name: string): AuditEventInput => ({
      action: AuditAction.ManifestPull,
      result: 'success',
      caller: caller(name, { requestId: `req-${name}` }),
      repository: 'team/batched',
      reference: 'v1',
      detail: { digest: 'sha256:def', size: 42 },
    });
    const expected = (name: string): Omit<AuditEvent, 'id' | 'at'> => ({
      principal: name,
      principalId: null,
      clientIp: '192.0.2.10',
      action: AuditAction.ManifestPull,
      repository: 'team/batched',
      reference: 'v1',
      result: 'success',
      requestId: `req-${name}`,
      detail: { digest: 'sha256:def', size: 42 },
    });
    const strip = ({ id, at, ...rest }: AuditEvent): Omit<AuditEvent, 'id' | 'at'> => {
      assert.match(id, /^\d+$/);
      assert.match(at, /^\d{4}-\d{2}-\d{2}T/);
      return rest;
    };
    assert.equal(audit.subscriberCount, 0);

    // Nobody listening: the batch is stored (the INSERT returns only ids).
    audit.recordInBackground(pull('batch-quiet-1'));
    audit.recordInBackground(pull('batch-quiet-2'));
    await audit.flush();
    const quiet = await page('principal=batch-quiet-2');
    assert.deepEqual(quiet.events.map(strip), [expected('batch-quiet-2')]);

    const seen: AuditEvent[] = [];
    const listen = (): (() => void) =>
      audit.subscribe({ event: (event) => seen.push(event), close: () => undefined });

    // A subscriber arriving while the INSERT runs: the rows are read back for it.
    audit.recordInBackground(pull('batch-late-1'));
    audit.recordInBackground(pull('batch-late-2'));
    const flushing = audit.flush();
    const unsubscribeLate = listen();
    await flushing;
    assert.deepEqual(seen.map(strip), [expected('batch-late-1'), expected('batch-late-2')]);
    assert.ok(BigInt(seen[0].id) < BigInt(seen[1].id), 'published in id order');
    unsubscribeLate();

    // A subscriber already there: the INSERT returns the rows themselves.
    seen.length = 0;
    const unsubscribe = listen();
    audit.recordInBackground(pull('batch-live'));
    await audit.flush();
    assert.deepEqual(seen.map(strip), [expected('batch-live')]);
    unsubscribe();
    assert.equal(audit.subscriberCount, 0);
  });

  it('filters by principal, action, repository and time range', async () => {
    await record({
      caller: caller('filter-a'),
      action: AuditAction.AuthLogin,
      repository: 'r/one',
    });
    await record({
      caller: caller('filter-a'),
      action: AuditAction.ManifestPull,
      repository: 'r/two',
    });
    await record({
      caller: caller('filter-b'),
      action: AuditAction.ManifestPull,
      repository: 'r/one',
    });
    await record({
      caller: caller('filter-b'),
      action: AuditAction.AccessDenied,
      result: 'denied',
      repository: 'r/two',
    });
    const names = (p: AuditPage): string[] =>
      p.events.map((e) => `${e.principal} ${e.action} ${e.repository}`);
    assert.deepEqual(names(await page('principal=filter-a')), [
      'filter-a manifest.pull r/two',
      'filter-a auth.login r/one',
    ]);
    assert.deepEqual(names(await page('principal=filter-b&action=access.denied')), [
      'filter-b access.denied r/two',
    ]);
    assert.deepEqual(names(await page('repository=r/one')), [
      'filter-b manifest.pull r/one',
      'filter-a auth.login r/one',
    ]);
    assert.deepEqual(names(await page('action=auth.login&repository=r/one')), [
      'filter-a auth.login r/one',
    ]);

    // Hourly events from 2 days ago: from is inclusive, to exclusive.
    const base = new Date(Date.now() - 2 * 86_400_000);
    base.setUTCMinutes(0, 0, 0);
    await insertAt('timeline', base.toISOString(), 5, 3600);
    const hour = (n: number): string => new Date(base.getTime() + n * 3_600_000).toISOString();
    const refs = (p: AuditPage): (string | null)[] => p.events.map((e) => e.reference);
    assert.deepEqual(refs(await page(`principal=timeline&from=${hour(1)}&to=${hour(3)}`)), [
      'v3',
      'v2',
    ]);
    assert.deepEqual(refs(await page(`principal=timeline&from=${hour(3)}`)), ['v5', 'v4']);
    assert.deepEqual(refs(await page(`principal=timeline&to=${hour(1)}`)), ['v1']);
    const offset = hour(2).replace('Z', '+00:00');
    assert.deepEqual(refs(await page(`principal=timeline&to=${encodeURIComponent(offset)}`)), [
      'v2',
      'v1',
    ]);
    const day = base.toISOString().slice(0, 10);
    assert.equal((await page(`principal=timeline&from=${day}`)).events.length, 5);
    assert.equal((await page(`principal=timeline&to=${day}`)).events.length, 0);
  });

  it('pages newest first with an opaque cursor, without gaps or repeats', async () => {
    // 12 events sharing one timestamp and 13 a second apart: ties are broken by id, compared
    // as numbers (4 of the 12 have ids of 10 digits, 6 of 11).
    const base = new Date(Date.now() - 3_600_000).toISOString();
    await insertAt('pager', base, 2, 0);
    await sql.query(
      `INSERT INTO audit_events (id, at, principal, client_ip, action, result)
       SELECT 9999999995 + g, $1::timestamptz, 'pager', '192.0.2.1', 'manifest.pull', 'success'
         FROM generate_series(1, 10) g`,
      [base],
    );
    await insertAt('pager', new Date(Date.parse(base) + 1000).toISOString(), 13, 1);
    const seen: AuditEvent[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    do {
      const p = await page(
        `principal=pager&limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      sizes.push(p.events.length);
      seen.push(...p.events);
      cursor = p.nextCursor;
      if (cursor) assert.match(cursor, /^[\w-]+$/);
    } while (cursor);
    assert.deepEqual(sizes, [10, 10, 5]);
    assert.equal(new Set(seen.map((e) => e.id)).size, 25);
    for (let i = 1; i < seen.length; i++) {
      const [newer, older] = [seen[i - 1], seen[i]];
      assert.ok(newer && older);
      assert.ok(
        newer.at > older.at || (newer.at === older.at && BigInt(newer.id) > BigInt(older.id)),
        `${newer.at}/${newer.id} before ${older.at}/${older.id}`,
      );
    }
    // Exactly a page left: no cursor on it.
    assert.equal((await page('principal=pager&limit=25')).nextCursor, undefined);
    assert.equal((await page('principal=pager')).events.length, 25);
  });

  it('is admin-only: no credentials, no audit log', async () => {
    for (const path of ['', '/export?format=csv', '/stream']) {
      const res = await fetch(`${registry.url}/admin/v1/audit${path}`);
      assert.equal(res.status, 401, path);
      await res.body?.cancel();
    }
  });

  it('refuses invalid parameters with 400 and a clear message', async () => {
    const cases: [string, RegExp][] = [
      ['/admin/v1/audit?principle=x', /unknown query parameter "principle"/],
      ['/admin/v1/audit?from=yesterday', /"from" must be an ISO 8601 date-time/],
      ['/admin/v1/audit?to=2024-11-25T10:00:00', /"to" must be an ISO 8601/],
      ['/admin/v1/audit?from=2024-02-30', /"from" must be an ISO 8601/],
      ['/admin/v1/audit?from=2024-11-26&to=2024-11-25', /"from" must be before "to"/],
      ['/admin/v1/audit?action=manifest.get', /"action" must be one of: auth.login,/],
      ['/admin/v1/audit?limit=0', /"limit" must be an integer from 1 to 1000/],
      ['/admin/v1/audit?limit=1001', /"limit" must be an integer/],
      ['/admin/v1/audit?limit=ten', /"limit" must be an integer/],
      ['/admin/v1/audit?cursor=bm9wZQ', /"cursor" is not a cursor this API returned/],
      ['/admin/v1/audit?principal=a&principal=b', /"principal" must be given once/],
      ['/admin/v1/audit?repository=', /"repository" must not be empty/],
      ['/admin/v1/audit/export', /"format" must be csv or ndjson/],
      ['/admin/v1/audit/export?format=xml', /"format" must be csv or ndjson/],
      ['/admin/v1/audit/export?format=csv&cursor=x', /unknown query parameter "cursor"/],
      ['/admin/v1/audit/stream?from=2024-11-25', /unknown query parameter "from"/],
    ];
    for (const [path, message] of cases) assert.match(await badRequest(path), message, path);
    assert.match(
      await badRequest('/admin/v1/audit/stream', { headers: { 'Last-Event-ID': 'abc' } }),
      /Last-Event-ID must be an audit event id/,
    );
  });

  it('is append-only: UPDATE, DELETE and TRUNCATE fail; pruning removes only old events', async () => {
    await record({ caller: caller('immutable') });
    await assert.rejects(
      sql.query(`UPDATE audit_events SET result = 'failure' WHERE principal = 'immutable'`),
      /append-only: UPDATE/,
    );
    await assert.rejects(
      sql.query(`DELETE FROM audit_events WHERE principal = 'immutable'`),
      /append-only: DELETE/,
    );
    await assert.rejects(sql.query(`TRUNCATE audit_events`), /append-only: TRUNCATE/);
    // The pruner's switch allows DELETE only, and only where it is set.
    await sql.query('BEGIN');
    await sql.query(`SET LOCAL berth.audit_prune = 'on'`);
    await assert.rejects(
      sql.query(`UPDATE audit_events SET result = 'failure' WHERE principal = 'immutable'`),
      /append-only: UPDATE/,
    );
    await sql.query('ROLLBACK');
    assert.equal((await page('principal=immutable')).events.length, 1);

    const days = (n: number): string => new Date(Date.now() - n * 86_400_000).toISOString();
    await insertAt('expired', days(120), 3, 86_400);
    await insertAt('retained', days(89), 2, 3600);
    assert.equal(await audit.prune(90), 3);
    assert.equal((await page('principal=expired')).events.length, 0);
    assert.equal((await page('principal=retained')).events.length, 2);
    assert.equal(await audit.prune(90), 0);
    await assert.rejects(audit.prune(0), RangeError);
  });

  it('exports CSV with a header row and RFC 4180 escaping', async () => {
    const awkward = 'v1,"quoted"\nsecond line';
    const detail = { note: 'a,b "c"\r\nd', empty: '' };
    await record({ caller: caller('csv-writer'), reference: awkward, detail, repository: 'x/y' });
    await record({ caller: caller('csv-writer'), action: AuditAction.TagDelete });
    const res = await adminFetch('/admin/v1/audit/export?format=csv&principal=csv-writer');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/csv; charset=utf-8');
    assert.match(
      res.headers.get('content-disposition') ?? '',
      /^attachment; filename="berth-audit-\d{8}T\d{6}Z\.csv"$/,
    );
    const text = await res.text();
    assert.ok(
      text.startsWith(
        'id,at,principal,principal_id,client_ip,action,repository,reference,result,request_id,detail\r\n',
      ),
    );
    assert.ok(text.includes(`"v1,""quoted""\nsecond line"`), text);
    const rows = parseCsv(text);
    assert.equal(rows.length, 3);
    const [header, first, second] = rows;
    assert.ok(header && first && second);
    const row = Object.fromEntries(header.map((name, i) => [name, first[i]]));
    assert.equal(row.principal, 'csv-writer');
    assert.equal(row.principal_id, '');
    assert.equal(row.client_ip, '192.0.2.10');
    assert.equal(row.action, 'manifest.pull');
    assert.equal(row.repository, 'x/y');
    assert.equal(row.reference, awkward);
    assert.equal(row.request_id, 'req-csv-writer');
    assert.deepEqual(JSON.parse(row.detail ?? ''), detail);
    assert.equal(second[5], 'tag.delete');
    assert.equal(second[10], '');
  });

  it('exports NDJSON, oldest first, the same events the query returns', async () => {
    for (let i = 0; i < 3; i++) {
      await record({
        caller: caller('ndjson'),
        reference: `r${i}`,
        detail: { line: 'a\nb\u2028' },
      });
    }
    const res = await adminFetch('/admin/v1/audit/export?format=ndjson&principal=ndjson');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/x-ndjson');
    const text = await res.text();
    assert.ok(text.endsWith('\n'));
    const lines = text.slice(0, -1).split('\n');
    assert.equal(lines.length, 3);
    const exported = lines.map((l) => JSON.parse(l) as AuditEvent);
    assert.deepEqual(
      exported.map((e) => e.reference),
      ['r0', 'r1', 'r2'],
    );
    assert.deepEqual(exported, (await page('principal=ndjson')).events.reverse());
    const empty = await adminFetch('/admin/v1/audit/export?format=ndjson&principal=nobody');
    assert.equal(await empty.text(), '');
  });

  it('streams new events live over SSE and replays the missed ones after Last-Event-ID', async () => {
    const watched = 'sse-watched';
    const first = await adminFetch(`/admin/v1/audit/stream?principal=${watched}`);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    assert.equal(first.headers.get('cache-control'), 'no-cache, no-transform');
    assert.ok(first.headers.get('x-request-id'));
    const live = sseReader(first);
    assert.deepEqual((await live.next()).comments, ['audit events']);
    await record({ caller: caller('someone-else') });
    await record({ caller: caller(watched), reference: 'a' });
    const a = await nextEvent(live);
    assert.equal(a.reference, 'a');
    assert.equal(a.principal, watched);

    // Disconnect: the subscription goes away with the connection.
    await live.cancel();
    await waitFor(() => audit.subscriberCount === 0, 'subscription removed on disconnect');
    await record({ caller: caller(watched), reference: 'b' });
    await record({ caller: caller('someone-else') });
    await record({ caller: caller(watched), reference: 'c' });

    const resumed = await adminFetch(`/admin/v1/audit/stream?principal=${watched}`, {
      headers: { 'Last-Event-ID': a.id },
    });
    assert.equal(resumed.status, 200);
    const replay = sseReader(resumed);
    const b = await nextEvent(replay);
    const c = await nextEvent(replay);
    assert.deepEqual([b.reference, c.reference], ['b', 'c']);
    await record({ caller: caller(watched), reference: 'd' });
    assert.equal((await nextEvent(replay)).reference, 'd');
    await replay.cancel();
    await waitFor(() => audit.subscriberCount === 0, 'subscription removed on disconnect');
  });

  it('sends a heartbeat comment while the stream is idle', async () => {
    const server: Server = createServer((_req, res) => {
      void new AuditEventStream(audit, res, { principal: 'nobody' }, { heartbeatMs: 50 }).start();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const stream = sseReader(await fetch(`http://127.0.0.1:${port}/`));
      await stream.next();
      assert.deepEqual((await stream.next(2000)).comments, ['heartbeat']);
      assert.deepEqual((await stream.next(2000)).comments, ['heartbeat']);
      await stream.cancel();
      await waitFor(() => audit.subscriberCount === 0, 'subscription removed on disconnect');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('streams a CSV export of 100,000 events with flat memory', async (t) => {
    const rows = 100_000;
    await sql.query(
      `INSERT INTO audit_events
         (at, principal, principal_id, client_ip, action, repository, reference, result,
          request_id, detail)
       SELECT now() - make_interval(secs => g), 'bulk-loader', gen_random_uuid(),
              '198.51.100.' || (g % 250), 'manifest.pull', 'bulk/app-' || (g % 100),
              'sha256:' || md5(g::text) || md5((-g)::text), 'success', 'req-' || g,
              jsonb_build_object('n', g, 'note', repeat('x', 200), 'agent', 'containerd/1.7, "x"')
         FROM generate_series(1, $1::int) g`,
      [rows],
    );
    // Warm up the route (code loaded, buffers allocated) before taking the baseline.
    await (await adminFetch('/admin/v1/audit/export?format=csv&principal=nobody')).text();
    // Two figures: the raw RSS peak, which includes garbage V8 has not collected yet (its
    // heap grows before a full GC runs), and the RSS right after a forced full GC, which is
    // what the export actually holds. The bound applies to both.
    const rss = (): number => process.memoryUsage().rss;
    const settledRss = (): number => {
      gc();
      return rss();
    };
    const baseline = settledRss();
    let peak = baseline;
    let settledPeak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rss())), 5);
    const settledSampler = setInterval(
      () => (settledPeak = Math.max(settledPeak, settledRss())),
      250,
    );
    let lines = 0;
    let bytes = 0;
    let chunks = 0;
    const started = Date.now();
    try {
      const res = await adminFetch('/admin/v1/audit/export?format=csv&principal=bulk-loader');
      assert.equal(res.status, 200);
      assert.ok(res.body);
      const reader = res.body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks++;
        bytes += value.length;
        for (let at = value.indexOf(10); at !== -1; at = value.indexOf(10, at + 1)) lines++;
        peak = Math.max(peak, rss());
      }
    } finally {
      clearInterval(sampler);
      clearInterval(settledSampler);
    }
    const mib = (n: number): string => (n / 1024 / 1024).toFixed(1);
    t.diagnostic(
      `export: ${lines} lines, ${mib(bytes)} MiB in ${chunks} chunks, ${Date.now() - started} ms; ` +
        `RSS baseline ${mib(baseline)} MiB; peak ${mib(peak)} MiB (+${mib(peak - baseline)}); ` +
        `after full GCs at most ${mib(settledPeak)} MiB (+${mib(settledPeak - baseline)})`,
    );
    assert.equal(lines, rows + 1);
    assert.ok(bytes > 40 * 1024 * 1024, 'the export is larger than the memory bound');
    const bound = 64 * 1024 * 1024;
    assert.ok(settledPeak - baseline < bound, `RSS held ${mib(settledPeak - baseline)} MiB more`);
    assert.ok(peak - baseline < 2 * bound, `RSS peaked ${mib(peak - baseline)} MiB higher`);
  });
});
