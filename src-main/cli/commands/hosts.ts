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
import { formatNumber, t } from '../../i18n/i18n.js';
import { fields, printable, table } from '../format.js';

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
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new VmdeskError('INVALID_INPUT', t('commands.hosts.portInvalid', { value }));
  return n;
}

function fingerprint(value: string): string {
  const parsed = hostKeyFingerprintSchema.safeParse(value);
  if (!parsed.success) throw new VmdeskError('INVALID_INPUT', parsed.error.issues[0]?.message ?? t('commands.hosts.notFingerprint'));
  return parsed.data;
}

/** ssh's own question, asked on the terminal; anything but "yes" refuses, as ssh does. */
async function confirmOnTerminal(destination: string, keys: readonly HostKeyInfo[]): Promise<string | null> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return null;
  const prompt = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    process.stderr.write(`${t('commands.hosts.authenticity', { destination: printable(destination) })}\n`);
    for (const k of keys) process.stderr.write(`${t('commands.hosts.fingerprint', { type: k.type, fingerprint: k.fingerprint })}\n`);
    // The answer is ssh's own word in every language: "yes".
    const answer = await prompt.question(t('commands.hosts.continue'));
    return answer.trim().toLowerCase() === 'yes' ? (keys[0]?.fingerprint ?? null) : null;
  } finally {
    prompt.close();
  }
}

function describeSummary(s: HostSummary): string {
  const r = s.remote;
  return r
    ? t('commands.hosts.summary', { name: s.name, version: r.version, hostname: printable(r.hostname), home: printable(r.home) })
    : s.name;
}

function describeDetails(name: string, d: HostDetails, ms: number): string {
  const gib = (b: number | null): string => (b === null ? t('cli.format.unknown') : `${formatNumber(b / 1024 ** 3, 1)} GiB`);
  const rows: Array<[string, string]> = [
    [t('commands.hosts.host'), `${name} (${printable(d.hostname)})`],
    ['VMDesk:', `${d.vmdeskVersion} (API ${d.api})`],
    ['QEMU:', d.qemuVersion ?? t('commands.hosts.notInstalled')],
    [
      t('cli.format.hostAccel'),
      `${d.accel ?? t('cli.format.none')}${d.accel === 'tcg' && d.kvmReason ? ` (KVM: ${printable(d.kvmReason)})` : ''}`,
    ],
    [t('cli.format.cpus'), formatNumber(d.cpus)],
    [t('cli.format.memory'), t('cli.format.hostFree', { total: formatNumber(d.memoryMiB), free: formatNumber(d.freeMemoryMiB) })],
    [t('commands.hosts.library'), t('commands.hosts.libraryFree', { library: printable(d.library), free: gib(d.libraryFreeBytes) })],
    [t('commands.hosts.machines'), t('commands.hosts.machinesRunning', { machines: d.machines, running: d.machinesRunning })],
    [t('commands.hosts.roundTrip'), `${formatNumber(ms, 1)} ms`],
  ];
  // The values' column as it has always been: 17 characters in.
  return fields(rows, Math.max(17, ...rows.map(([label]) => label.length + 1))).join('\n');
}

const HOST_COLUMNS = ['name', 'destination', 'port', 'library', 'command'] as const;

export function registerHostCommands(program: Command, core: Core): void {
  const manager = (): HostManager => new HostManager({ home: core.library.home, env: core.env });
  const hosts = program.command('hosts').description(t('commands.hosts.description'));

  hosts
    .command('add')
    .argument('<name>', t('commands.hosts.name'))
    .argument('<destination>', t('commands.hosts.destination'))
    .description(t('commands.hosts.addDescription'))
    .option('--port <n>', t('commands.hosts.port'), port)
    .option('--identity <file>', t('commands.hosts.identity'))
    .option('--remote-home <dir>', t('commands.hosts.remoteHome'))
    .option('--remote-command <cmd>', t('commands.hosts.remoteCommand'))
    .option('--accept-host-key <SHA256:...>', t('commands.hosts.acceptHostKey'), fingerprint)
    .option('--json', t('cli.json'))
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
        process.stdout.write(
          o.json ? JSON.stringify(summary, null, 2) + '\n' : `${t('commands.hosts.added', { host: describeSummary(summary) })}\n`,
        );
      } finally {
        hostManager.close();
      }
    });

  hosts
    .command('list')
    .description(t('commands.hosts.listDescription'))
    .option('--json', t('cli.json'))
    .action(async (o: { json?: boolean }) => {
      const entries = await new HostRegistry(core.library.home).list();
      if (o.json) {
        process.stdout.write(JSON.stringify(entries, null, 2) + '\n');
        return;
      }
      if (entries.length === 0) {
        process.stdout.write(`${t('commands.hosts.none')}\n`);
        return;
      }
      process.stdout.write(
        table([
          HOST_COLUMNS.map((column) => t(`commands.hosts.header.${column}`)),
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
    .argument('<name>', t('commands.hosts.theHost'))
    .description(t('commands.hosts.testDescription'))
    .option('--json', t('cli.json'))
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
    .argument('<name>', t('commands.hosts.theHost'))
    .description(t('commands.hosts.removeDescription'))
    .action(async (name: string) => {
      await new HostRegistry(core.library.home).remove(name);
      process.stdout.write(`${t('commands.hosts.removed', { name })}\n`);
    });

  program
    .command('stdio')
    .description(t('commands.hosts.stdioDescription'))
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
  process.stderr.write(`${t('cli.failed', { message: printable(shape.message.split('\n')[0] ?? shape.message) })}\n`);
  return exitCodeFor(shape.code);
}
