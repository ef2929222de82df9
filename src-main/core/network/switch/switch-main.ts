/**
 * Entry point of an internal network's switch process: `switch-main SOCKET NAME`, started detached
 * by ensureInternalSwitch (../internal-switch.ts) so it outlives the core, as the machines do.
 */
import { VmdeskError } from '../../../api/errors.js';
import { ALREADY_RUNNING_EXIT, SwitchServer } from './switch-server.js';

/** Shorter waits for tests (milliseconds, 100 ms to 10 minutes); unset: the defaults. */
function knob(variable: string): number | undefined {
  const value = Number(process.env[variable]);
  return Number.isInteger(value) && value >= 100 && value <= 600_000 ? value : undefined;
}

async function main(): Promise<void> {
  const [socket, name] = process.argv.slice(2);
  if (!socket || name === undefined) throw new Error('usage: switch-main SOCKET NAME');
  process.title = 'vmdesk-switch';
  process.umask(0o077);
  process.on('SIGHUP', () => undefined);
  process.on('SIGPIPE', () => undefined);
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  let server: SwitchServer;
  try {
    server = await SwitchServer.start({ socket, name, log, idleMs: knob('VMDESK_SWITCH_IDLE_MS'), holdMs: knob('VMDESK_SWITCH_HOLD_MS') });
  } catch (err) {
    if (err instanceof VmdeskError && err.code === 'LOCKED') {
      log(`${new Date().toISOString()} not started: ${err.message}`);
      process.exit(ALREADY_RUNNING_EXIT);
    }
    throw err;
  }
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void server.close(`${signal}`));
  await server.closed;
  process.exit(0);
}

void main().catch((err: unknown) => {
  process.stderr.write(`vmdesk-switch: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
