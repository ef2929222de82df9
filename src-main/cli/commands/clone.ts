/** `vmdesk clone` and `vmdesk move`. */
import path from 'node:path';
import type { Command } from 'commander';
import type { Core } from '../../core/core.js';
import { cloneMachineTask, moveMachineTask } from '../../core/clone/clone-ops.js';

/** Progress of a long task on stderr, on one rewritten line when stderr is a terminal. */
export function showTaskProgress(core: Core, taskId: string): void {
  if (!process.stderr.isTTY) return;
  core.on('task', (t) => {
    if (t.id !== taskId) return;
    const pct = t.progress === null ? '' : ` ${Math.round(t.progress * 100)}%`;
    process.stderr.write(`\r\x1b[K${t.title}${pct} ${t.message}`.slice(0, process.stderr.columns || 80));
    if (t.state !== 'running') process.stderr.write('\r\x1b[K');
  });
}

export function registerCloneCommands(program: Command, core: Core): void {
  program
    .command('clone')
    .argument('<name>', 'the machine to clone')
    .argument('<new>', 'the name of the clone')
    .description('clone a machine: a full, independent copy, or a linked clone on a snapshot (--linked)')
    .option('--linked', 'copy-on-write overlays on a snapshot of the source (instant; the source must then keep that snapshot)')
    .option('--snapshot <snap>', "clone this snapshot's state instead of the current state")
    .option('--json', 'print the result as JSON')
    .action(async (name: string, newName: string, o: { linked?: boolean; snapshot?: string; json?: boolean }) => {
      const { task, result } = await cloneMachineTask(core, name, {
        name: newName,
        linked: o.linked === true,
        ...(o.snapshot !== undefined && { snapshot: o.snapshot }),
      });
      showTaskProgress(core, task.id);
      const r = await result;
      if (o.json)
        process.stdout.write(JSON.stringify({ uuid: r.config.uuid, name: r.config.name, dir: r.dir, disks: r.disks }, null, 2) + '\n');
      else process.stdout.write(`Cloned ${name} as ${r.config.name} (${r.config.uuid}, ${o.linked ? 'linked' : 'full'}) in ${r.dir}\n`);
    });

  program
    .command('move')
    .argument('<name>')
    .argument('<dir>', 'the folder to move the machine folder into')
    .description("move a stopped machine's folder and disks into another folder (or filesystem)")
    .option('--json', 'print the result as JSON')
    .action(async (name: string, dir: string, o: { json?: boolean }) => {
      const { task, result } = await moveMachineTask(core, name, path.resolve(dir));
      showTaskProgress(core, task.id);
      const r = await result;
      if (o.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      else process.stdout.write(`Moved ${name} to ${r.dir}\n`);
    });
}
