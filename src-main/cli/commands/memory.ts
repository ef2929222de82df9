/** `vmdesk memory NAME [--target MiB]`: a machine's balloon and memory figures, and its target set live. */
import type { Command } from 'commander';
import { VmdeskError } from '../../api/errors.js';
import type { MachineMemory } from '../../api/resources.js';
import type { Core } from '../../core/core.js';
import { machineMemory, setMemoryTarget } from '../../core/resources/balloon.js';
import { table } from '../format.js';

interface Options {
  target?: number;
  json?: boolean;
}

export function parseTargetMiB(value: string): number {
  const n = /^\d{1,9}$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1)
    throw new VmdeskError('INVALID_INPUT', `--target is the guest's memory in MiB (a whole number), not "${value.slice(0, 40)}"`);
  return n;
}

const mib = (n: number | null | undefined): string => (n === null || n === undefined ? '-' : `${n} MiB`);
const count = (n: number | null | undefined): string => (n === null || n === undefined ? '-' : String(n));

export function formatMemory(m: MachineMemory): string {
  const b = m.balloon;
  const g = m.guest;
  const running = b.actualMiB !== null || m.hostRssMiB !== null;
  const balloonLine = !b.device
    ? running
      ? `none (switch it on with vmdesk modify ${m.name} --balloon on, then restart)`
      : `off (vmdesk modify ${m.name} --balloon on)`
    : !running
      ? 'on (figures while running)'
      : b.driver
        ? 'on, driver answering'
        : "on, the guest's driver does not answer (yet)";
  const rows: string[][] = [
    ['Memory', mib(m.memoryMiB)],
    ['Minimum', mib(m.minimumMiB)],
    ['Shares', String(m.shares)],
    ['Balloon', balloonLine],
  ];
  if (b.device && running) {
    rows.push(['Target', `${mib(b.targetMiB)}${b.setBy ? ` (set by ${b.setBy === 'start' ? 'the start' : b.setBy})` : ''}`]);
    rows.push(['Actual', mib(b.actualMiB)]);
  }
  if (g) {
    rows.push(['Guest total', mib(g.totalMiB)]);
    rows.push(['Guest free', mib(g.freeMiB)]);
    rows.push(['Guest available', mib(g.availableMiB)]);
    rows.push(['Guest disk caches', mib(g.diskCachesMiB)]);
    rows.push(['Guest swap in/out', `${mib(g.swapInMiB)} / ${mib(g.swapOutMiB)}`]);
    rows.push(['Guest faults', `${count(g.majorFaults)} major, ${count(g.minorFaults)} minor`]);
  } else if (running && b.device) rows.push(['Guest figures', 'none yet (the guest sends them every 2 s once its driver runs)']);
  if (running) rows.push(['Host RSS', mib(m.hostRssMiB)]);
  rows.push([
    'Page sharing',
    m.pageSharing.enabled
      ? `allowed${m.pageSharing.mergingPages === null ? '' : `, ${m.pageSharing.mergingPages} pages merged`}`
      : 'not allowed',
  ]);
  return `${m.name}\n${table(rows.map(([k = '', v = '']) => [`  ${k}:`, v]))}`;
}

export function registerMemoryCommand(program: Command, core: Core): void {
  program
    .command('memory')
    .argument('<name>', 'the machine')
    .description("show a machine's memory (balloon target and size, the guest's own figures, host RSS); --target sets it live")
    .option('--target <MiB>', "the guest's memory, from its minimum up to its memory (the balloon inflates or deflates)", parseTargetMiB)
    .option('--json', 'print the figures as JSON')
    .action(async (name: string, o: Options) => {
      const memory = o.target === undefined ? await machineMemory(core, name) : await setMemoryTarget(core, name, o.target);
      if (o.target !== undefined && !memory.balloon.driver)
        process.stderr.write(
          `warning: ${memory.name}'s balloon driver does not answer: the target is set and takes effect once the guest loads virtio_balloon\n`,
        );
      else if (o.target !== undefined && memory.balloon.actualMiB !== null && Math.abs(memory.balloon.actualMiB - o.target) > 2)
        process.stderr.write(`${memory.name} is at ${memory.balloon.actualMiB} MiB and on its way to ${o.target} MiB\n`);
      process.stdout.write(o.json ? JSON.stringify(memory, null, 2) + '\n' : formatMemory(memory) + '\n');
    });
}
