/**
 * Entry point of the per-VM agent process: `node agent-main.js RUNTIME_DIR [--standby]`.
 * Launches QEMU from launch.json, or re-adopts the QEMU named by qemu.pid if it is still alive.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { isProcessAlive } from '../fs/lock-file.js';
import { RUNTIME } from '../paths.js';
import { VmAgent } from './agent.js';
import { readSecretFd } from '../storage/secret-fifo.js';
import { STANDBY_FLAG, STANDBY_GO, launchFileSchema } from './protocol.js';

async function main(): Promise<void> {
  const runtimeDir = process.argv[2];
  if (!runtimeDir) throw new Error('usage: agent-main RUNTIME_DIR');
  process.title = 'vmdesk-agent';
  // Started ahead (a migration's destination): its code is loaded; it launches when told, and
  // ends quietly when the word never comes (cancelled, or its parent gone).
  let passphrase: string | undefined;
  if (process.argv[3] === STANDBY_FLAG) {
    const word = await readSecretFd(3).catch(() => '');
    if (!word.startsWith(STANDBY_GO)) return;
    passphrase = word.slice(STANDBY_GO.length) || undefined;
  }
  const launch = launchFileSchema.parse(JSON.parse(await fs.readFile(path.join(runtimeDir, RUNTIME.launch), 'utf8')));
  const pidText = await fs.readFile(path.join(runtimeDir, RUNTIME.qemuPid), 'utf8').catch(() => '');
  const qemuAlive = pidText.trim() !== '' && isProcessAlive(Number(pidText.trim()));
  process.on('SIGHUP', () => undefined);
  process.on('SIGPIPE', () => undefined);
  await new VmAgent(runtimeDir, launch, qemuAlive ? 'adopt' : 'launch', passphrase).run();
}

void main().catch((err: unknown) => {
  process.stderr.write(`vmdesk-agent: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
