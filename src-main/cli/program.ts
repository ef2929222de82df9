/**
 * `vmdesk`: the scripting face of VMDesk (like VBoxManage). Every command runs the same core as the
 * app. Errors print one clear message on stderr and exit with the code of their kind (see README).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { VMDESK_VERSION, hostNameSchema } from '../api/hosts.js';
import { ERROR_CODES, VmdeskError, exitCodeFor, toErrorShape } from '../api/errors.js';
import { BOOT_DEVICES, DISPLAY_ADAPTERS, FIRMWARES, OS_TYPES, type BootDevice } from '../api/machine-config.js';
import type { CreateMachineInput, ModifyMachineInput } from '../api/operations.js';
import { parsePinning, type CpuPin } from '../api/resources.js';
import { Core } from '../core/core.js';
import { parseSize } from '../core/qemu/qemu-img.js';
import { listenHost, listenPort, serve } from '../server/serve-command.js';
import { attachConsole } from './console.js';
import { cancelTasksOnSignal } from './interrupt.js';
import { trustBackingOption } from './trust-backing.js';
import { registerPortabilityCommands } from './commands/portability.js';
import { registerSnapshotCommands } from './commands/snapshot.js';
import { registerCloneCommands } from './commands/clone.js';
import { registerBackupCommands } from './commands/backup.js';
import { registerDiskCommands } from './commands/disk.js';
import { registerNetworkCommands } from './commands/network.js';
import { registerHostCommands, runOnHost } from './commands/hosts.js';
import { registerMigrateCommand } from './commands/migrate.js';
import { registerCpuCommand } from './commands/cpu.js';
import { registerKsmCommand } from './commands/ksm.js';
import { registerMemoryPolicyCommand } from './commands/memory-policy.js';
import { registerScheduleCommand } from './commands/schedule.js';
import { registerStatsCommand } from './commands/stats.js';
import { registerMemoryCommand } from './commands/memory.js';
import { formatHost, formatList, formatMachine, printable } from './format.js';
import { passphraseFileOption, readPassphrase, registerEncryptCommand } from './commands/encrypt.js';
import { isEncrypted } from '../core/storage/encryption.js';

function wholeNumber(flag: string) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) throw new VmdeskError('INVALID_INPUT', `${flag} must be a whole number, not "${value}"`);
    return Number(value);
  };
}

/** The longest a Node timer waits (2^31 - 1 ms); a longer one fires at once. */
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

function seconds(flag: string, max = MAX_TIMER_SECONDS) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new VmdeskError('INVALID_INPUT', `${flag} must be a positive number of seconds`);
    if (n > max) throw new VmdeskError('INVALID_INPUT', `${flag} must be at most ${max} seconds, not ${value.slice(0, 40)}`);
    return n;
  };
}

function bootOrder(value: string): BootDevice[] {
  const devices = value.split(',').map((s) => s.trim());
  for (const d of devices) {
    if (!(BOOT_DEVICES as readonly string[]).includes(d))
      throw new VmdeskError('INVALID_INPUT', `Unknown boot device "${d}" (use ${BOOT_DEVICES.join(', ')})`);
  }
  return devices as BootDevice[];
}

function onOff(flag: string) {
  return (value: string): boolean => {
    if (value === 'on') return true;
    if (value === 'off') return false;
    throw new VmdeskError('INVALID_INPUT', `${flag} takes on or off`);
  };
}

interface CreateOptions {
  demo?: boolean;
  cpus?: number;
  memory?: number;
  disk?: string;
  iso?: string;
  importDisk?: string;
  attachDisk?: string;
  trustBacking?: string[];
  kernel?: string;
  initrd?: string;
  append?: string;
  firmware?: 'bios' | 'uefi';
  os?: CreateMachineInput['osType'];
  network?: 'nat' | 'none';
  networkBoot?: boolean;
  boot?: BootDevice[];
  notes?: string;
  json?: boolean;
  encrypt?: boolean;
  passphraseFile?: string;
}

interface ModifyOptions {
  name?: string;
  cpus?: number;
  memory?: number;
  firmware?: 'bios' | 'uefi';
  os?: ModifyMachineInput['osType'];
  iso?: string;
  eject?: boolean;
  /** A path, or false from --no-kernel. */
  kernel?: string | false;
  initrd?: string;
  append?: string;
  boot?: BootDevice[];
  display?: ModifyMachineInput['displayAdapter'];
  serial?: boolean;
  notes?: string;
  balloon?: boolean;
  memoryMin?: number | 'auto';
  memoryShares?: number;
  pageSharing?: boolean;
  cpuCap?: number | 'off';
  cpuShares?: number;
  pin?: CpuPin[];
}

/** A whole number, or the word (`off`/`auto`: the default). Not null: commander stores a parser's null as ''. */
function numberOrOff<W extends 'off' | 'auto'>(flag: string, word: W) {
  return (value: string): number | W => (value.trim() === word ? word : wholeNumber(flag)(value));
}

function pinning(value: string): CpuPin[] {
  try {
    return parsePinning(value);
  } catch (err) {
    throw new VmdeskError('INVALID_INPUT', `--pin: ${(err as Error).message}`);
  }
}

function print(json: boolean | undefined, value: unknown, human: () => string): void {
  process.stdout.write((json ? JSON.stringify(value, null, 2) : human()) + '\n');
}

/** Progress of a long task on stderr, on one rewritten line when stderr is a terminal. */
function showProgress(core: Core, taskId: string): void {
  if (!process.stderr.isTTY) return;
  core.on('task', (t) => {
    if (t.id !== taskId) return;
    const pct = t.progress === null ? '' : ` ${Math.round(t.progress * 100)}%`;
    process.stderr.write(`\r\x1b[K${t.title}${pct} ${t.message}`.slice(0, process.stderr.columns || 80));
    if (t.state !== 'running') process.stderr.write('\r\x1b[K');
  });
}

function warn(warnings: string[]): void {
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
}

export function buildProgram(core: Core): Command {
  const program = new Command('vmdesk')
    .description('VMDesk: create, run and watch QEMU virtual machines')
    .version(VMDESK_VERSION)
    .showHelpAfterError()
    .addHelpText('after', '\nOn a remote host (see vmdesk hosts): vmdesk --host NAME COMMAND [ARGS...], e.g. vmdesk --host lab list')
    .configureOutput({ outputError: (text, write) => write(printable(text)) })
    .exitOverride();

  program
    .command('host')
    .description('show what this host can run')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const host = await core.host();
      print(o.json, host, () => formatHost(host));
    });

  program
    .command('list')
    .alias('ls')
    .description('list machines')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const machines = await core.list();
      print(o.json, machines, () => formatList(machines));
    });

  program
    .command('show')
    .argument('<name>')
    .description('show one machine')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const m = await core.describe(name);
      print(o.json, m, () => formatMachine(m));
    });

  program
    .command('repair')
    .argument('<name>')
    .description('bring back a broken machine (corrupt or empty machine.json)')
    .requiredOption('--from-backup', 'from its previous configuration, machine.json.bak (the broken file is kept beside it)')
    .action(async (name: string) => {
      const result = await core.repairFromBackup(name);
      const kept = result.brokenFile ? `; the broken file is kept as ${result.brokenFile}` : '';
      process.stdout.write(`Repaired ${result.config.name} from its backup${kept}\n`);
    });

  program
    .command('create')
    .argument('<name>')
    .description('create a machine')
    .option('--demo', 'boot the demo guest (Debian kernel + busybox; built on first use)')
    .option('--cpus <n>', 'virtual CPUs', wholeNumber('--cpus'))
    .option('--memory <MiB>', 'memory in MiB', wholeNumber('--memory'))
    .option('--disk <size>', 'a new empty qcow2 disk, e.g. 20G')
    .option('--iso <path>', 'an ISO image in the CD-ROM drive (booted first)')
    .option('--import-disk <path>', 'copy an existing image (qcow2, raw, vmdk, vdi, vhdx, vpc) into the machine as qcow2')
    .option('--attach-disk <path>', 'use an existing image in place')
    .addOption(trustBackingOption())
    .option('--kernel <path>', 'direct kernel boot: the kernel')
    .option('--initrd <path>', 'direct kernel boot: the initrd')
    .option('--append <cmdline>', 'direct kernel boot: the kernel command line')
    .addOption(new Option('--firmware <fw>', 'firmware').choices(FIRMWARES))
    .addOption(new Option('--os <type>', 'OS type').choices(OS_TYPES))
    .addOption(new Option('--network <type>', 'first network adapter').choices(['nat', 'none']))
    .option('--network-boot', 'allow booting from the network (iPXE)')
    .option('--boot <order>', `boot order, e.g. cdrom,disk (${BOOT_DEVICES.join(', ')})`, bootOrder)
    .option('--notes <text>', 'notes')
    .option('--encrypt', 'encrypt its new or imported disk (qcow2 LUKS); the passphrase is asked twice, or read from --passphrase-file')
    .addOption(passphraseFileOption())
    .option('--json', 'print the new machine as JSON')
    .action(async (name: string, o: CreateOptions) => {
      if ((o.initrd || o.append) && !o.kernel) throw new VmdeskError('INVALID_INPUT', '--initrd and --append need --kernel');
      if (o.passphraseFile !== undefined && o.encrypt !== true) throw new VmdeskError('INVALID_INPUT', '--passphrase-file needs --encrypt');
      const passphrase = o.encrypt === true ? await readPassphrase(o.passphraseFile, `the disks of ${name}`, true) : undefined;
      const input: CreateMachineInput = {
        name,
        demo: o.demo === true,
        ...(o.cpus !== undefined && { cpus: o.cpus }),
        ...(o.memory !== undefined && { memoryMiB: o.memory }),
        ...(o.disk !== undefined && { diskBytes: parseSize(o.disk) }),
        ...(o.iso !== undefined && { iso: path.resolve(o.iso) }),
        ...(o.importDisk !== undefined && { importDisk: path.resolve(o.importDisk) }),
        ...(o.attachDisk !== undefined && { attachDisk: path.resolve(o.attachDisk) }),
        ...(o.trustBacking !== undefined && { trustBacking: o.trustBacking }),
        ...(o.kernel !== undefined && {
          kernelBoot: {
            kernel: path.resolve(o.kernel),
            ...(o.initrd !== undefined && { initrd: path.resolve(o.initrd) }),
            ...(o.append !== undefined && { cmdline: o.append }),
          },
        }),
        ...(o.firmware !== undefined && { firmware: o.firmware }),
        ...(o.os !== undefined && { osType: o.os }),
        ...(o.network !== undefined && { network: o.network }),
        ...(o.networkBoot === true && { networkBoot: true }),
        ...(o.boot !== undefined && { bootOrder: o.boot }),
        ...(o.notes !== undefined && { notes: o.notes }),
        ...(passphrase !== undefined && { passphrase }),
      };
      const { task, result } = core.create(input);
      showProgress(core, task.id);
      const created = await result;
      warn(created.warnings);
      print(o.json === true, created.config, () => `Created ${created.config.name} (${created.config.uuid}) in ${created.dir}`);
    });

  program
    .command('modify')
    .argument('<name>')
    .description('change a machine (CPU cap, shares and pinning apply at once; the rest at its next start)')
    .option('--name <new>', 'rename')
    .option('--cpus <n>', 'virtual CPUs', wholeNumber('--cpus'))
    .option('--memory <MiB>', 'memory in MiB', wholeNumber('--memory'))
    .addOption(new Option('--firmware <fw>', 'firmware').choices(FIRMWARES))
    .addOption(new Option('--os <type>', 'OS type').choices(OS_TYPES))
    .option('--iso <path>', 'insert an ISO image')
    .option('--eject', 'empty the CD-ROM drive')
    .option('--kernel <path>', 'direct kernel boot: the kernel')
    .option('--initrd <path>', 'direct kernel boot: the initrd')
    .option('--append <cmdline>', 'direct kernel boot: the kernel command line')
    .option('--no-kernel', 'stop booting a kernel directly')
    .option('--boot <order>', 'boot order, e.g. disk,cdrom', bootOrder)
    .addOption(new Option('--display <adapter>', 'display adapter').choices(DISPLAY_ADAPTERS))
    .option('--serial <on|off>', 'serial console', onOff('--serial'))
    .option('--notes <text>', 'notes')
    .option('--balloon <on|off>', 'memory balloon device (next start)', onOff('--balloon'))
    .option(
      '--memory-min <MiB|auto>',
      'the least memory the balloon leaves the guest (auto: half its memory)',
      numberOrOff('--memory-min', 'auto'),
    )
    .option('--memory-shares <n>', 'memory priority when the host is short of it (1-10000, default 100)', wholeNumber('--memory-shares'))
    .option('--page-sharing <on|off>', 'offer its memory to KSM page sharing (next start)', onOff('--page-sharing'))
    .option('--cpu-cap <percent|off>', 'execution cap in % of one host CPU, up to 100 per vCPU (live)', numberOrOff('--cpu-cap', 'off'))
    .option('--cpu-shares <n>', 'CPU priority (1-10000, default 100; live)', wholeNumber('--cpu-shares'))
    .option('--pin <vcpu:cpu,...|off>', 'pin vCPUs to host CPUs, e.g. 0:1,1:0 (live)', pinning)
    .action(async (name: string, o: ModifyOptions) => {
      if (o.iso !== undefined && o.eject) throw new VmdeskError('INVALID_INPUT', 'Use either --iso or --eject');
      const patch: ModifyMachineInput = {
        ...(o.name !== undefined && { name: o.name }),
        ...(o.cpus !== undefined && { cpus: o.cpus }),
        ...(o.memory !== undefined && { memoryMiB: o.memory }),
        ...(o.firmware !== undefined && { firmware: o.firmware }),
        ...(o.os !== undefined && { osType: o.os }),
        ...(o.iso !== undefined && { iso: path.resolve(o.iso) }),
        ...(o.eject === true && { iso: null }),
        ...(typeof o.kernel === 'string' && {
          kernelBoot: {
            kernel: path.resolve(o.kernel),
            ...(o.initrd !== undefined && { initrd: path.resolve(o.initrd) }),
            ...(o.append !== undefined && { cmdline: o.append }),
          },
        }),
        ...(o.kernel === false && { kernelBoot: null }),
        ...(o.boot !== undefined && { bootOrder: o.boot }),
        ...(o.display !== undefined && { displayAdapter: o.display }),
        ...(o.serial !== undefined && { serial: o.serial }),
        ...(o.notes !== undefined && { notes: o.notes }),
        ...(o.balloon !== undefined && { balloon: o.balloon }),
        ...(o.memoryMin !== undefined && { memoryMinMiB: o.memoryMin === 'auto' ? null : o.memoryMin }),
        ...(o.memoryShares !== undefined && { memoryShares: o.memoryShares }),
        ...(o.pageSharing !== undefined && { pageSharing: o.pageSharing }),
        ...(o.cpuCap !== undefined && { cpuCap: o.cpuCap === 'off' ? null : o.cpuCap }),
        ...(o.cpuShares !== undefined && { cpuShares: o.cpuShares }),
        ...(o.pin !== undefined && { cpuPinning: o.pin }),
      };
      if (Object.keys(patch).length === 0)
        throw new VmdeskError('INVALID_INPUT', 'Nothing to change: give at least one option (see vmdesk modify --help)');
      const before = await core.get(name);
      const result = await core.modify(name, patch);
      warn(result.warnings);
      const running = core.runtime.isActive(before.status.state);
      // The balloon's floor and the shares are read live (by the memory policy, the next target); the
      // CPU settings are applied live; everything else waits for the next start.
      const liveKeys = new Set(['memoryMinMiB', 'memoryShares', 'cpuCap', 'cpuShares', 'cpuPinning']);
      const allLive = Object.keys(patch).every((k) => liveKeys.has(k));
      const applied = result.appliedLive.length > 0 ? `now: ${result.appliedLive.join(', ')}` : 'in effect now';
      const when = allLive
        ? ` (${applied})`
        : result.appliedLive.length > 0
          ? ` (${applied}; the rest at its next start)`
          : ' (applies at its next start)';
      process.stdout.write(`Changed ${result.config.name}${running ? when : ''}\n`);
    });

  program
    .command('start')
    .argument('<name>')
    .description('start a machine')
    .addOption(passphraseFileOption())
    .action(async (name: string, o: { passphraseFile?: string }) => {
      // Asked only for a machine with encrypted disks; the core says so (and checks it) before QEMU runs.
      const { config } = await core.library.find(name);
      const passphrase = isEncrypted(config) ? await readPassphrase(o.passphraseFile, config.name) : undefined;
      const status = await core.start(name, passphrase === undefined ? {} : { passphrase });
      process.stdout.write(`${status.name} is ${status.state} (${status.accel.toUpperCase()})\n`);
    });

  program
    .command('stop')
    .argument('<name>')
    .description('shut a machine down through ACPI, or power it off with --force')
    .option('--force', 'power off at once (like pulling the plug)')
    // The core waits an hour at most for a guest to shut down.
    .option('--timeout <s>', 'seconds to wait for the guest to shut down', seconds('--timeout', 3600), 60)
    .action(async (name: string, o: { force?: boolean; timeout: number }) => {
      try {
        const status = await core.shutdown(name, { force: o.force === true, timeoutMs: Math.round(o.timeout * 1000) });
        process.stdout.write(`${status.name} is ${status.state}\n`);
      } catch (err) {
        const shape = toErrorShape(err);
        if (shape.code === 'TIMEOUT') throw new VmdeskError('TIMEOUT', `${shape.message}\nTo power it off: vmdesk stop ${name} --force`);
        throw err;
      }
    });

  for (const [verb, describe] of [
    ['pause', 'pause a running machine'],
    ['resume', 'resume a paused machine'],
    ['reset', 'reset a machine (like the reset button)'],
  ] as const) {
    program
      .command(verb)
      .argument('<name>')
      .description(describe)
      .action(async (name: string) => {
        const status = await core[verb](name);
        process.stdout.write(`${status.name} is ${status.state}\n`);
      });
  }

  program
    .command('delete')
    .alias('rm')
    .argument('<name>')
    .description('delete a stopped machine and its folder')
    .option('--keep-disks', 'keep the disks folder')
    .action(async (name: string, o: { keepDisks?: boolean }) => {
      const result = await core.delete(name, { keepDisks: o.keepDisks === true });
      process.stdout.write(`Deleted ${name}${result.keptDisks ? `; its disks are kept in ${result.keptDisks}` : ''}\n`);
    });

  program
    .command('console')
    .argument('<name>')
    .description('attach to the serial console (Ctrl-] detaches)')
    .action(async (name: string) => {
      await attachConsole(await core.consoleSocket(name), name);
    });

  program
    .command('send')
    .argument('<name>')
    .argument('<text>')
    .description('type text into the serial console ("\\n" is Enter)')
    .action(async (name: string, text: string) => {
      await core.sendText(name, text.replaceAll('\\n', '\n'));
    });

  program
    .command('log')
    .argument('<name>')
    .description('print the serial output logged so far')
    .action(async (name: string) => {
      process.stdout.write(await core.serialLog(name));
    });

  program
    .command('wait')
    .argument('<name>')
    .description('wait until the serial console shows some text')
    .requiredOption('--text <string>', 'the text to wait for')
    .option('--timeout <s>', 'give up after this many seconds', seconds('--timeout'), 60)
    .option('--from-now', 'only match output that comes after this command starts')
    .action(async (name: string, o: { text: string; timeout: number; fromNow?: boolean }) => {
      await core.waitForText(name, o.text, { timeoutMs: Math.round(o.timeout * 1000), fromNow: o.fromNow === true });
    });

  program
    .command('screenshot')
    .argument('<name>')
    .argument('<file>')
    .description('save the guest display as PNG')
    .action(async (name: string, file: string) => {
      const target = path.resolve(file);
      await fs.access(path.dirname(target)).catch(() => {
        throw new VmdeskError('NOT_FOUND', `The folder ${path.dirname(target)} does not exist`);
      });
      await core.screenshot(name, target);
      process.stdout.write(`Saved ${target}\n`);
    });

  registerSnapshotCommands(program, core);

  registerCloneCommands(program, core);
  registerBackupCommands(program, core);
  registerDiskCommands(program, core);
  registerNetworkCommands(program, core);

  registerPortabilityCommands(program, core);
  registerHostCommands(program, core);
  registerMigrateCommand(program, core);
  registerCpuCommand(program, core);
  registerKsmCommand(program, core);
  registerMemoryPolicyCommand(program, core);
  registerScheduleCommand(program, core);
  registerEncryptCommand(program, core);
  registerStatsCommand(program, core);
  registerMemoryCommand(program, core);

  program
    .command('serve')
    .description('serve the VMDesk UI and API to a web browser (token-protected; Ctrl-C stops it, machines keep running)')
    .option('--host <host>', 'address to listen on', listenHost, '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', listenPort, 0)
    .action(async (o: { host: string; port: number }) => {
      await serve(core, o);
    });

  return program;
}

/** `--host NAME` (or `--host=NAME`) before the command: the whole command runs on that host. */
export function splitHostOption(argv: readonly string[]): { host: string; rest: string[] } | null {
  const first = argv[2];
  if (first === '--host') return { host: argv[3] ?? '', rest: argv.slice(4) };
  if (first?.startsWith('--host=')) return { host: first.slice('--host='.length), rest: argv.slice(3) };
  return null;
}

export async function main(argv: string[]): Promise<number> {
  const core = new Core();
  const remote = splitHostOption(argv);
  if (remote) {
    try {
      if (!hostNameSchema.safeParse(remote.host).success)
        throw new VmdeskError(
          'INVALID_INPUT',
          `--host needs the name of a host added with vmdesk hosts add, not "${remote.host.slice(0, 80)}"`,
        );
      if (remote.rest.length === 0)
        throw new VmdeskError('INVALID_INPUT', '--host NAME needs a command to run there, e.g. vmdesk --host lab list');
      return await runOnHost(core, remote.host, remote.rest);
    } catch (err) {
      const shape = toErrorShape(err);
      process.stderr.write(`vmdesk: ${printable(shape.message)}\n`);
      return exitCodeFor(shape.code);
    }
  }
  const program = buildProgram(core);
  // `serve` stops on its own signals (its machines keep running), `stdio` when its input ends; every
  // other command cancels its task.
  program.hook('preAction', (_program, command) => {
    if (command.name() !== 'serve' && command.name() !== 'stdio') cancelTasksOnSignal(core);
  });
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return ERROR_CODES.INVALID_INPUT;
    }
    const shape = toErrorShape(err);
    process.stderr.write(`vmdesk: ${printable(shape.message)}\n`);
    return exitCodeFor(shape.code);
  }
}
