/** `vmdesk memory NAME [--target MiB]`: a machine's balloon and memory figures, and its target set live. */
import type { Command } from 'commander';
import { VmdeskError } from '../../api/errors.js';
import type { MachineMemory } from '../../api/resources.js';
import type { Core } from '../../core/core.js';
import { machineMemory, setMemoryTarget } from '../../core/resources/balloon.js';
import { formatNumber, t } from '../../i18n/i18n.js';
import { table } from '../format.js';
import { warn } from '../output.js';

interface Options {
  target?: number;
  json?: boolean;
}

export function parseTargetMiB(value: string): number {
  const n = /^\d{1,9}$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1)
    throw new VmdeskError('INVALID_INPUT', t('commands.memory.targetInvalid', { value: value.slice(0, 40) }));
  return n;
}

const mib = (n: number | null | undefined): string => (n === null || n === undefined ? '-' : t('cli.format.mib', { n: formatNumber(n) }));
const count = (n: number | null | undefined): string => (n === null || n === undefined ? '-' : formatNumber(n));

export function formatMemory(m: MachineMemory): string {
  const b = m.balloon;
  const g = m.guest;
  const running = b.actualMiB !== null || m.hostRssMiB !== null;
  const balloonLine = !b.device
    ? t(running ? 'commands.memory.balloonNone' : 'commands.memory.balloonOff', { name: m.name })
    : !running
      ? t('commands.memory.balloonStopped')
      : t(b.driver ? 'commands.memory.balloonAnswering' : 'commands.memory.balloonSilent');
  const rows: string[][] = [
    [t('commands.memory.memory'), mib(m.memoryMiB)],
    [t('commands.memory.minimum'), mib(m.minimumMiB)],
    [t('commands.cpu.shares'), formatNumber(m.shares)],
    [t('commands.memory.balloon'), balloonLine],
  ];
  if (b.device && running) {
    const setBy = b.setBy === 'start' ? t('commands.memory.theStart') : b.setBy;
    rows.push([t('commands.memory.target'), `${mib(b.targetMiB)}${setBy ? ` ${t('commands.memory.setBy', { by: setBy })}` : ''}`]);
    rows.push([t('commands.memory.actual'), mib(b.actualMiB)]);
  }
  if (g) {
    rows.push([t('commands.memory.guestTotal'), mib(g.totalMiB)]);
    rows.push([t('commands.memory.guestFree'), mib(g.freeMiB)]);
    rows.push([t('commands.memory.guestAvailable'), mib(g.availableMiB)]);
    rows.push([t('commands.memory.guestCaches'), mib(g.diskCachesMiB)]);
    rows.push([t('commands.memory.guestSwap'), `${mib(g.swapInMiB)} / ${mib(g.swapOutMiB)}`]);
    rows.push([
      t('commands.memory.guestFaults'),
      t('commands.memory.faults', { major: count(g.majorFaults), minor: count(g.minorFaults) }),
    ]);
  } else if (running && b.device) rows.push([t('commands.memory.guestFigures'), t('commands.memory.noFigures')]);
  if (running) rows.push([t('commands.memory.hostRss'), mib(m.hostRssMiB)]);
  const merged = m.pageSharing.mergingPages;
  rows.push([
    t('commands.memory.pageSharing'),
    m.pageSharing.enabled
      ? merged === null
        ? t('commands.ksm.allowed')
        : t('commands.memory.merged', { pages: formatNumber(merged) })
      : t('commands.memory.notAllowed'),
  ]);
  return `${m.name}\n${table(rows.map(([k = '', v = '']) => [`  ${k}:`, v]))}`;
}

export function registerMemoryCommand(program: Command, core: Core): void {
  program
    .command('memory')
    .argument('<name>', t('cli.theMachine'))
    .description(t('commands.memory.description'))
    .option('--target <MiB>', t('commands.memory.targetOption'), parseTargetMiB)
    .option('--json', t('commands.memory.json'))
    .action(async (name: string, o: Options) => {
      const memory = o.target === undefined ? await machineMemory(core, name) : await setMemoryTarget(core, name, o.target);
      if (o.target !== undefined && !memory.balloon.driver) warn([t('commands.memory.driverSilent', { name: memory.name })]);
      else if (o.target !== undefined && memory.balloon.actualMiB !== null && Math.abs(memory.balloon.actualMiB - o.target) > 2)
        process.stderr.write(
          `${t('commands.memory.onItsWay', { name: memory.name, actual: formatNumber(memory.balloon.actualMiB), target: formatNumber(o.target) })}\n`,
        );
      process.stdout.write(o.json ? JSON.stringify(memory, null, 2) + '\n' : formatMemory(memory) + '\n');
    });
}
