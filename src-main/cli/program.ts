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
import { formatHost, formatList, formatMachine, printable, state } from './format.js';
import { passphraseFileOption, readPassphrase, registerEncryptCommand } from './commands/encrypt.js';
import { isEncrypted } from '../core/storage/encryption.js';
import { coreText, setLanguage, t } from '../i18n/i18n.js';
import { languageFromEnv } from '../i18n/language.js';
import { localisedHelp, localisedOutput } from './localise.js';
import { showTaskProgress, warn } from './output.js';

function wholeNumber(flag: string) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) throw new VmdeskError('INVALID_INPUT', t('cli.invalid.wholeNumber', { flag, value }));
    return Number(value);
  };
}

/** The longest a Node timer waits (2^31 - 1 ms); a longer one fires at once. */
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

function seconds(flag: string, max = MAX_TIMER_SECONDS) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new VmdeskError('INVALID_INPUT', t('cli.invalid.seconds', { flag }));
    if (n > max) throw new VmdeskError('INVALID_INPUT', t('cli.invalid.secondsMax', { flag, max, value: value.slice(0, 40) }));
    return n;
  };
}

function bootOrder(value: string): BootDevice[] {
  const devices = value.split(',').map((s) => s.trim());
  for (const d of devices) {
    if (!(BOOT_DEVICES as readonly string[]).includes(d))
      throw new VmdeskError('INVALID_INPUT', t('cli.invalid.bootDevice', { device: d, devices: BOOT_DEVICES.join(', ') }));
  }
  return devices as BootDevice[];
}

function onOff(flag: string) {
  return (value: string): boolean => {
    if (value === 'on') return true;
    if (value === 'off') return false;
    throw new VmdeskError('INVALID_INPUT', t('cli.invalid.onOff', { flag }));
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

export function buildProgram(core: Core): Command {
  const program = new Command('vmdesk')
    .description(t('cli.program.description'))
    .version(VMDESK_VERSION, undefined, t('cli.help.version'))
    .helpOption('-h, --help', t('cli.help.helpOption'))
    .helpCommand('help [command]', t('cli.help.helpCommand'))
    .configureHelp(localisedHelp())
    .showHelpAfterError()
    .addHelpText('after', `\n${t('cli.program.remoteHelp')}`)
    .configureOutput(localisedOutput())
    .exitOverride();

  program
    .command('host')
    .description(t('cli.host.description'))
    .option('--json', t('cli.json'))
    .action(async (o: { json?: boolean }) => {
      const host = await core.host();
      print(o.json, host, () => formatHost(host));
    });

  program
    .command('list')
    .alias('ls')
    .description(t('cli.list.description'))
    .option('--json', t('cli.json'))
    .action(async (o: { json?: boolean }) => {
      const machines = await core.list();
      print(o.json, machines, () => formatList(machines));
    });

  program
    .command('show')
    .argument('<name>')
    .description(t('cli.show.description'))
    .option('--json', t('cli.json'))
    .action(async (name: string, o: { json?: boolean }) => {
      const m = await core.describe(name);
      print(o.json, m, () => formatMachine(m));
    });

  program
    .command('repair')
    .argument('<name>')
    .description(t('cli.repair.description'))
    .requiredOption('--from-backup', t('cli.repair.fromBackup'))
    .action(async (name: string) => {
      const result = await core.repairFromBackup(name);
      const repaired = result.brokenFile
        ? t('cli.repair.repairedKept', { name: result.config.name, file: result.brokenFile })
        : t('cli.repair.repaired', { name: result.config.name });
      process.stdout.write(`${repaired}\n`);
    });

  program
    .command('create')
    .argument('<name>')
    .description(t('cli.create.description'))
    .option('--demo', t('cli.create.demo'))
    .option('--cpus <n>', t('cli.create.cpus'), wholeNumber('--cpus'))
    .option('--memory <MiB>', t('cli.create.memory'), wholeNumber('--memory'))
    .option('--disk <size>', t('cli.create.disk'))
    .option('--iso <path>', t('cli.create.iso'))
    .option('--import-disk <path>', t('cli.create.importDisk'))
    .option('--attach-disk <path>', t('cli.create.attachDisk'))
    .addOption(trustBackingOption())
    .option('--kernel <path>', t('cli.create.kernel'))
    .option('--initrd <path>', t('cli.create.initrd'))
    .option('--append <cmdline>', t('cli.create.append'))
    .addOption(new Option('--firmware <fw>', t('cli.create.firmware')).choices(FIRMWARES))
    .addOption(new Option('--os <type>', t('cli.create.os')).choices(OS_TYPES))
    .addOption(new Option('--network <type>', t('cli.create.network')).choices(['nat', 'none']))
    .option('--network-boot', t('cli.create.networkBoot'))
    .option('--boot <order>', t('cli.create.boot', { devices: BOOT_DEVICES.join(', ') }), bootOrder)
    .option('--notes <text>', t('cli.create.notes'))
    .option('--encrypt', t('cli.create.encrypt'))
    .addOption(passphraseFileOption())
    .option('--json', t('cli.create.json'))
    .action(async (name: string, o: CreateOptions) => {
      if ((o.initrd || o.append) && !o.kernel) throw new VmdeskError('INVALID_INPUT', t('cli.invalid.needsKernel'));
      if (o.passphraseFile !== undefined && o.encrypt !== true) throw new VmdeskError('INVALID_INPUT', t('cli.invalid.needsEncrypt'));
      const passphrase = o.encrypt === true ? await readPassphrase(o.passphraseFile, t('cli.create.disksOf', { name }), true) : undefined;
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
      showTaskProgress(core, task.id);
      const created = await result;
      warn(created.warnings);
      print(o.json === true, created.config, () =>
        t('cli.create.created', { name: created.config.name, uuid: created.config.uuid, dir: created.dir }),
      );
    });

  program
    .command('modify')
    .argument('<name>')
    .description(t('cli.modify.description'))
    .option('--name <new>', t('cli.modify.name'))
    .option('--cpus <n>', t('cli.create.cpus'), wholeNumber('--cpus'))
    .option('--memory <MiB>', t('cli.create.memory'), wholeNumber('--memory'))
    .addOption(new Option('--firmware <fw>', t('cli.create.firmware')).choices(FIRMWARES))
    .addOption(new Option('--os <type>', t('cli.create.os')).choices(OS_TYPES))
    .option('--iso <path>', t('cli.modify.iso'))
    .option('--eject', t('cli.modify.eject'))
    .option('--kernel <path>', t('cli.create.kernel'))
    .option('--initrd <path>', t('cli.create.initrd'))
    .option('--append <cmdline>', t('cli.create.append'))
    .option('--no-kernel', t('cli.modify.noKernel'))
    .option('--boot <order>', t('cli.modify.boot'), bootOrder)
    .addOption(new Option('--display <adapter>', t('cli.modify.display')).choices(DISPLAY_ADAPTERS))
    .option('--serial <on|off>', t('cli.modify.serial'), onOff('--serial'))
    .option('--notes <text>', t('cli.create.notes'))
    .option('--balloon <on|off>', t('cli.modify.balloon'), onOff('--balloon'))
    .option('--memory-min <MiB|auto>', t('cli.modify.memoryMin'), numberOrOff('--memory-min', 'auto'))
    .option('--memory-shares <n>', t('cli.modify.memoryShares'), wholeNumber('--memory-shares'))
    .option('--page-sharing <on|off>', t('cli.modify.pageSharing'), onOff('--page-sharing'))
    .option('--cpu-cap <percent|off>', t('cli.modify.cpuCap'), numberOrOff('--cpu-cap', 'off'))
    .option('--cpu-shares <n>', t('cli.modify.cpuShares'), wholeNumber('--cpu-shares'))
    .option('--pin <vcpu:cpu,...|off>', t('cli.modify.pin'), pinning)
    .action(async (name: string, o: ModifyOptions) => {
      if (o.iso !== undefined && o.eject) throw new VmdeskError('INVALID_INPUT', t('cli.invalid.isoOrEject'));
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
      if (Object.keys(patch).length === 0) throw new VmdeskError('INVALID_INPUT', t('cli.invalid.nothingToChange'));
      const before = await core.get(name);
      const result = await core.modify(name, patch);
      warn(result.warnings);
      const running = core.runtime.isActive(before.status.state);
      // The balloon's floor and the shares are read live (by the memory policy, the next target); the
      // CPU settings are applied live; everything else waits for the next start.
      const liveKeys = new Set(['memoryMinMiB', 'memoryShares', 'cpuCap', 'cpuShares', 'cpuPinning']);
      const allLive = Object.keys(patch).every((k) => liveKeys.has(k));
      const changed = result.config.name;
      const applied =
        result.appliedLive.length > 0
          ? t('cli.modify.appliedNow', { settings: result.appliedLive.join(', ') })
          : t('cli.modify.inEffectNow');
      const said = !running
        ? t('cli.modify.changed', { name: changed })
        : allLive
          ? t('cli.modify.changedLive', { name: changed, applied })
          : result.appliedLive.length > 0
            ? t('cli.modify.changedPartlyLive', { name: changed, applied })
            : t('cli.modify.changedNextStart', { name: changed });
      process.stdout.write(`${said}\n`);
    });

  program
    .command('start')
    .argument('<name>')
    .description(t('cli.start.description'))
    .addOption(passphraseFileOption())
    .action(async (name: string, o: { passphraseFile?: string }) => {
      // Asked only for a machine with encrypted disks; the core says so (and checks it) before QEMU runs.
      const { config } = await core.library.find(name);
      const passphrase = isEncrypted(config) ? await readPassphrase(o.passphraseFile, config.name) : undefined;
      const status = await core.start(name, passphrase === undefined ? {} : { passphrase });
      process.stdout.write(
        `${t('cli.start.state', { name: status.name, state: state(status.state), accel: status.accel.toUpperCase() })}\n`,
      );
    });

  program
    .command('stop')
    .argument('<name>')
    .description(t('cli.stop.description'))
    .option('--force', t('cli.stop.force'))
    // The core waits an hour at most for a guest to shut down.
    .option('--timeout <s>', t('cli.stop.timeout'), seconds('--timeout', 3600), 60)
    .action(async (name: string, o: { force?: boolean; timeout: number }) => {
      try {
        const status = await core.shutdown(name, { force: o.force === true, timeoutMs: Math.round(o.timeout * 1000) });
        process.stdout.write(`${t('cli.state', { name: status.name, state: state(status.state) })}\n`);
      } catch (err) {
        const shape = toErrorShape(err);
        if (shape.code === 'TIMEOUT') throw new VmdeskError('TIMEOUT', `${shape.message}\n${t('cli.stop.powerOffHint', { name })}`);
        throw err;
      }
    });

  for (const [verb, describe] of [
    ['pause', t('cli.pause.description')],
    ['resume', t('cli.resume.description')],
    ['reset', t('cli.reset.description')],
  ] as const) {
    program
      .command(verb)
      .argument('<name>')
      .description(describe)
      .action(async (name: string) => {
        const status = await core[verb](name);
        process.stdout.write(`${t('cli.state', { name: status.name, state: state(status.state) })}\n`);
      });
  }

  program
    .command('delete')
    .alias('rm')
    .argument('<name>')
    .description(t('cli.delete.description'))
    .option('--keep-disks', t('cli.delete.keepDisks'))
    .action(async (name: string, o: { keepDisks?: boolean }) => {
      const result = await core.delete(name, { keepDisks: o.keepDisks === true });
      const deleted = result.keptDisks ? t('cli.delete.deletedKept', { name, dir: result.keptDisks }) : t('cli.delete.deleted', { name });
      process.stdout.write(`${deleted}\n`);
    });

  program
    .command('console')
    .argument('<name>')
    .description(t('cli.console.description'))
    .action(async (name: string) => {
      await attachConsole(await core.consoleSocket(name), name);
    });

  program
    .command('send')
    .argument('<name>')
    .argument('<text>')
    .description(t('cli.send.description'))
    .action(async (name: string, text: string) => {
      await core.sendText(name, text.replaceAll('\\n', '\n'));
    });

  program
    .command('log')
    .argument('<name>')
    .description(t('cli.log.description'))
    .action(async (name: string) => {
      process.stdout.write(await core.serialLog(name));
    });

  program
    .command('wait')
    .argument('<name>')
    .description(t('cli.wait.description'))
    .requiredOption('--text <string>', t('cli.wait.text'))
    .option('--timeout <s>', t('cli.wait.timeout'), seconds('--timeout'), 60)
    .option('--from-now', t('cli.wait.fromNow'))
    .action(async (name: string, o: { text: string; timeout: number; fromNow?: boolean }) => {
      await core.waitForText(name, o.text, { timeoutMs: Math.round(o.timeout * 1000), fromNow: o.fromNow === true });
    });

  program
    .command('screenshot')
    .argument('<name>')
    .argument('<file>')
    .description(t('cli.screenshot.description'))
    .action(async (name: string, file: string) => {
      const target = path.resolve(file);
      await fs.access(path.dirname(target)).catch(() => {
        throw new VmdeskError('NOT_FOUND', t('cli.invalid.noFolder', { dir: path.dirname(target) }));
      });
      await core.screenshot(name, target);
      process.stdout.write(`${t('cli.screenshot.saved', { file: target })}\n`);
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
    .description(t('cli.serve.description'))
    .option('--host <host>', t('cli.serve.host'), listenHost, '127.0.0.1')
    .option('--port <port>', t('cli.serve.port'), listenPort, 0)
    .option('--no-server-render', t('cli.serve.noServerRender'))
    .action(async (o: { host: string; port: number; serverRender: boolean }) => {
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
  setLanguage(languageFromEnv(process.env));
  const core = new Core();
  const remote = splitHostOption(argv);
  if (remote) {
    try {
      if (!hostNameSchema.safeParse(remote.host).success)
        throw new VmdeskError('INVALID_INPUT', t('cli.invalid.hostName', { host: remote.host.slice(0, 80) }));
      if (remote.rest.length === 0) throw new VmdeskError('INVALID_INPUT', t('cli.invalid.hostCommand'));
      return await runOnHost(core, remote.host, remote.rest);
    } catch (err) {
      const shape = toErrorShape(err);
      process.stderr.write(`${t('cli.failed', { message: printable(coreText(shape.message)) })}\n`);
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
    process.stderr.write(`${t('cli.failed', { message: printable(coreText(shape.message)) })}\n`);
    return exitCodeFor(shape.code);
  }
}
