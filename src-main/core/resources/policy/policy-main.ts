/**
 * Entry point of the host memory policy process: `policy-main RUNTIME_ROOT LIBRARY_HOME`, started
 * detached by ensureMemoryPolicy (../memory-policy.ts) so it works with no window open, as the
 * machines and the internal-network switches do.
 */
import { VmdeskError } from '../../../api/errors.js';
import { MemoryPolicyRun } from './policy-loop.js';
import { ALREADY_RUNNING_EXIT } from './policy-files.js';

/** Shorter waits for tests (milliseconds, 100 ms to 10 minutes); unset: the defaults. */
function knob(variable: string): number | undefined {
  const value = Number(process.env[variable]);
  return Number.isInteger(value) && value >= 100 && value <= 600_000 ? value : undefined;
}

async function main(): Promise<void> {
  const [runtimeRoot, home] = process.argv.slice(2);
  if (!runtimeRoot || !home) throw new Error('usage: policy-main RUNTIME_ROOT LIBRARY_HOME');
  process.title = 'vmdesk-policy';
  process.umask(0o077);
  process.on('SIGHUP', () => undefined);
  process.on('SIGPIPE', () => undefined);
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  let run: MemoryPolicyRun;
  try {
    run = await MemoryPolicyRun.start({
      runtimeRoot,
      home,
      log,
      intervalMs: knob('VMDESK_POLICY_INTERVAL_MS'),
      idleMs: knob('VMDESK_POLICY_IDLE_MS'),
    });
  } catch (err) {
    if (err instanceof VmdeskError && err.code === 'LOCKED') {
      log(`${new Date().toISOString()} not started: ${err.message}`);
      process.exit(ALREADY_RUNNING_EXIT);
    }
    throw err;
  }
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => run.stop(`${signal} received`));
  await run.run();
  process.exit(0);
}

void main().catch((err: unknown) => {
  process.stderr.write(`vmdesk-policy: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
