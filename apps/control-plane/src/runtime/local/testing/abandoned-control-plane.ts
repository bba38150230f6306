/**
 * A stand-in control plane for the local runtime's integration test, run as its own process:
 * it applies one tenant, prints `{"pid":<data plane pid>}` once the data plane is ready, and
 * then idles until the test kills it (with SIGKILL, so it never closes its runtime).
 *
 * Input: env BERTH_TEST_RUNTIME = JSON `{ config: LocalRuntimeConfig, tenant: TenantDeployment }`.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { TenantDeployment } from '../../runtime.port';
import { LocalProcessRuntime } from '../local-process-runtime';
import type { LocalRuntimeConfig } from '../local-runtime.config';

interface Input {
  config: LocalRuntimeConfig;
  tenant: TenantDeployment;
}

async function main(): Promise<void> {
  const input = JSON.parse(process.env.BERTH_TEST_RUNTIME ?? '') as Input;
  const runtime = new LocalProcessRuntime(input.config);
  await runtime.apply(input.tenant);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = await runtime.status(input.tenant);
    if (status.state === 'ready') break;
    if (Date.now() > deadline) throw new Error(`not ready: ${JSON.stringify(status)}`);
    await delay(100);
  }
  process.stdout.write(`${JSON.stringify({ pid: runtime.pid(input.tenant) })}\n`);
  setInterval(() => undefined, 60_000);
}

main().catch((err: unknown) => {
  process.stderr.write(`abandoned-control-plane: ${String(err)}\n`);
  process.exit(1);
});
