/**
 * Entry point of the per-VM agent process: `node agent-main.js RUNTIME_DIR`.
 * Launches QEMU from launch.json, or re-adopts the QEMU named by qemu.pid if it is still alive.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { isProcessAlive } from '../fs/lock-file.js';
import { RUNTIME } from '../paths.js';
import { VmAgent } from './agent.js';
import { launchFileSchema } from './protocol.js';

async function main(): Promise<void> {
  const runtimeDir = process.argv[2];
  if (!runtimeDir) throw new Error('usage: agent-main RUNTIME_DIR');
  process.title = 'vmdesk-agent';
  const launch = launchFileSchema.parse(JSON.parse(await fs.readFile(path.join(runtimeDir, RUNTIME.launch), 'utf8')));
  const pidText = await fs.readFile(path.join(runtimeDir, RUNTIME.qemuPid), 'utf8').catch(() => '');
  const qemuAlive = pidText.trim() !== '' && isProcessAlive(Number(pidText.trim()));
  process.on('SIGHUP', () => undefined);
  process.on('SIGPIPE', () => undefined);
  await new VmAgent(runtimeDir, launch, qemuAlive ? 'adopt' : 'launch').run();
}

void main().catch((err: unknown) => {
  process.stderr.write(`vmdesk-agent: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
