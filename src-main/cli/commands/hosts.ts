/**
 * `vmdesk hosts ...` (the remote hosts of this computer), `vmdesk stdio` (what another computer's
 * VMDesk runs here over SSH) and `vmdesk --host NAME COMMAND...` (any command run on a remote host).
 */
import { spawn } from 'node:child_process';
import readline from 'node:readline/promises';
import type { Command } from 'commander';
import { VmdeskError, toErrorShape, exitCodeFor } from '../../api/errors.js';
import { hostKeyFingerprintSchema, type AddHostInput, type HostKeyInfo, type HostSummary } from '../../api/hosts.js';
import type { HostDetails } from '../../api/hosts.js';
import type { Core } from '../../core/core.js';
import { HostManager } from '../../core/hosts/host-manager.js';
import { SSH_BINARY, remoteCommandLine, sshArgs } from '../../core/hosts/ssh-args.js';
import { sshFailure } from '../../core/hosts/ssh-run.js';
import { HostRegistry } from '../../core/hosts/host-registry.js';
import { serveStdio } from '../../server/stdio-endpoint.js';
import { printable, table } from '../format.js';

interface AddOptions {
  port?: number;
  identity?: string;
  remoteHome?: string;
  remoteCommand?: string;
  acceptHostKey?: string;
  json?: boolean;
}

function port(value: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new VmdeskError('INVALID_INPUT', `--port is a number from 1 to 65535, not "${value}"`);
  return n;
}

function fingerprint(value: string): string {
  const parsed = hostKeyFingerprintSchema.safeParse(value);
  if (!parsed.success) throw new VmdeskError('INVALID_INPUT', parsed.error.issues[0]?.message ?? 'Not a fingerprint');
  return parsed.data;
}

/** ssh's own question, asked on the terminal; anything but "yes" refuses, as ssh does. */
async function confirmOnTerminal(destination: string, keys: readonly HostKeyInfo[]): Promise<string | null> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return null;
  const prompt = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    process.stderr.write(`The authenticity of host '${printable(destination)}' can't be established.\n`);
    for (const k of keys) process.stderr.write(`${k.type} key fingerprint is ${k.fingerprint}.\n`);
    const answer = await prompt.question('Are you sure you want to continue connecting (yes/no)? ');
    return answer.trim().toLowerCase() === 'yes' ? (keys[0]?.fingerprint ?? null) : null;
  } finally {
    prompt.close();
  }
}

function describeSummary(s: HostSummary): string {
  const r = s.remote;
  return r ? `${s.name}: VMDesk ${r.version} on ${printable(r.hostname)}, library ${printable(r.home)}` : s.name;
}

function describeDetails(name: string, d: HostDetails, ms: number): string {
  const gib = (b: number | null): string => (b === null ? 'unknown' : `${(b / 1024 ** 3).toFixed(1)} GiB`);
  return [
    `Host:            ${name} (${printable(d.hostname)})`,
    `VMDesk:          ${d.vmdeskVersion} (API ${d.api})`,
    `QEMU:            ${d.qemuVersion ?? 'not installed'}`,
    `Accelerator:     ${d.accel ?? 'none'}${d.accel === 'tcg' && d.kvmReason ? ` (KVM: ${printable(d.kvmReason)})` : ''}`,
    `CPUs:            ${d.cpus}`,
    `Memory:          ${d.memoryMiB} MiB (${d.freeMemoryMiB} MiB free)`,
    `Library:         ${printable(d.library)} (${gib(d.libraryFreeBytes)} free)`,
    `Machines:        ${d.machines} (${d.machinesRunning} running)`,
    `Round trip:      ${ms.toFixed(1)} ms`,
  ].join('\n');
}

export function registerHostCommands(program: Command, core: Core): void {
  const manager = (): HostManager => new HostManager({ home: core.library.home, env: core.env });
  const hosts = program.command('hosts').description('remote hosts: other computers with VMDesk, reached over SSH');

  hosts
    .command('add')
    .argument('<name>', 'a name for the host (letters, digits, . _ -)')
    .argument('<destination>', 'the SSH destination: user@host, or an alias of ~/.ssh/config')
    .description('add a remote host: checks its host key, logs in with your SSH keys, checks VMDesk there')
    .option('--port <n>', 'SSH port', port)
    .option('--identity <file>', 'a private key file (keys in your ssh-agent are tried too)')
    .option('--remote-home <dir>', 'the VMDesk library on the remote host (default: its own default)')
    .option('--remote-command <cmd>', 'the command that runs VMDesk there (default: vmdesk)')
    .option('--accept-host-key <SHA256:...>', 'the host key fingerprint you checked, for a host not yet in known_hosts', fingerprint)
    .option('--json', 'print JSON')
    .action(async (name: string, destination: string, o: AddOptions) => {
      const hostManager = manager();
      const input: AddHostInput = {
        name,
        destination,
        ...(o.port ? { port: o.port } : {}),
        ...(o.identity ? { identity: o.identity } : {}),
        ...(o.remoteHome ? { remoteHome: o.remoteHome } : {}),
        ...(o.remoteCommand ? { remoteCommand: o.remoteCommand } : {}),
        ...(o.acceptHostKey ? { acceptHostKey: o.acceptHostKey } : {}),
      };
      try {
        let summary: HostSummary;
        try {
          summary = await hostManager.add(input);
        } catch (err) {
          const details = (err as VmdeskError).details as { unknown?: boolean; keys?: HostKeyInfo[] } | undefined;
          if (!(err instanceof VmdeskError) || err.code !== 'HOST_KEY' || !details?.unknown || !details.keys || o.acceptHostKey) throw err;
          const accepted = await confirmOnTerminal(destination, details.keys);
          if (!accepted) throw err;
          summary = await hostManager.add({ ...input, acceptHostKey: accepted });
        }
        process.stdout.write(o.json ? JSON.stringify(summary, null, 2) + '\n' : `Added ${describeSummary(summary)}\n`);
      } finally {
        hostManager.close();
      }
    });

  hosts
    .command('list')
    .description('list the remote hosts')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const entries = await new HostRegistry(core.library.home).list();
      if (o.json) {
        process.stdout.write(JSON.stringify(entries, null, 2) + '\n');
        return;
      }
      if (entries.length === 0) {
        process.stdout.write('No remote hosts (add one with: vmdesk hosts add NAME user@host)\n');
        return;
      }
      process.stdout.write(
        table([
          ['NAME', 'DESTINATION', 'PORT', 'REMOTE LIBRARY', 'REMOTE COMMAND'],
          ...entries.map((e) => [
            e.name,
            e.destination,
            e.port ? String(e.port) : '',
            printable(e.remoteHome ?? ''),
            printable(e.remoteCommand ?? ''),
          ]),
        ]) + '\n',
      );
    });

  hosts
    .command('test')
    .argument('<name>', 'the host')
    .description('connect to a host and show its VMDesk, QEMU, resources and machines')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const hostManager = manager();
      try {
        await hostManager.connect(name);
        const t0 = performance.now();
        const details = (await hostManager.call(name, 'hostDetails', [])) as HostDetails;
        const ms = performance.now() - t0;
        process.stdout.write(
          o.json ? JSON.stringify({ ...details, roundTripMs: ms }, null, 2) + '\n' : describeDetails(name, details, ms) + '\n',
        );
      } finally {
        hostManager.close();
      }
    });

  hosts
    .command('remove')
    .argument('<name>', 'the host')
    .description('forget a remote host (its machines stay there, untouched)')
    .action(async (name: string) => {
      await new HostRegistry(core.library.home).remove(name);
      process.stdout.write(`Removed ${name}\n`);
    });

  program
    .command('stdio')
    .description("serve the API on stdin/stdout (what another computer's VMDesk runs here over SSH)")
    .action(async () => {
      await serveStdio(core);
    });
}

/**
 * `vmdesk --host NAME COMMAND...`: the command run by VMDesk on that host, through ssh with the
 * host's entry (destination, port, key, remote command and library), a terminal when this one has
 * one (consoles), its output and exit code as its own. Unknown or changed host keys are refused.
 */
export async function runOnHost(core: Core, name: string, args: readonly string[]): Promise<number> {
  const entry = await new HostRegistry(core.library.home).get(name);
  const tty = process.stdin.isTTY && process.stdout.isTTY;
  const child = spawn(
    SSH_BINARY,
    sshArgs(entry, { env: core.env, tty, options: ['StrictHostKeyChecking=yes'], command: remoteCommandLine(entry, args) }),
    { stdio: ['inherit', 'inherit', 'pipe'], env: core.env },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-16 * 1024);
    process.stderr.write(d);
  });
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
  });
  if (code !== 255) return code;
  const shape = toErrorShape(sshFailure(name, entry.destination, stderr));
  process.stderr.write(`vmdesk: ${printable(shape.message.split('\n')[0] ?? shape.message)}\n`);
  return exitCodeFor(shape.code);
}
