/** `vmdesk clone` and `vmdesk move`. */
import path from 'node:path';
import type { Command } from 'commander';
import type { Core } from '../../core/core.js';
import { cloneMachineTask, moveMachineTask } from '../../core/clone/clone-ops.js';
import { t } from '../../i18n/i18n.js';
import { showTaskProgress } from '../output.js';
import { passphraseFileOption } from './encrypt.js';
import { passphraseFor } from './snapshot.js';

export function registerCloneCommands(program: Command, core: Core): void {
  program
    .command('clone')
    .argument('<name>', t('commands.clone.source'))
    .argument('<new>', t('commands.clone.new'))
    .description(t('commands.clone.description'))
    .option('--linked', t('commands.clone.linked'))
    .option('--snapshot <snap>', t('commands.clone.snapshot'))
    .option('--json', t('cli.jsonResult'))
    .addOption(passphraseFileOption())
    .action(async (name: string, newName: string, o: { linked?: boolean; snapshot?: string; json?: boolean; passphraseFile?: string }) => {
      const { task, result } = await cloneMachineTask(core, name, {
        name: newName,
        linked: o.linked === true,
        ...(o.snapshot !== undefined && { snapshot: o.snapshot }),
        // A linked clone of a running machine: its QEMU encrypts the overlays with the key it holds.
        ...(await passphraseFor(core, name, o.passphraseFile, o.linked === true)),
      });
      showTaskProgress(core, task.id);
      const r = await result;
      if (o.json)
        process.stdout.write(JSON.stringify({ uuid: r.config.uuid, name: r.config.name, dir: r.dir, disks: r.disks }, null, 2) + '\n');
      else {
        const how = t(o.linked ? 'commands.clone.kindLinked' : 'commands.clone.kindFull');
        process.stdout.write(`${t('commands.clone.cloned', { name, clone: r.config.name, uuid: r.config.uuid, how, dir: r.dir })}\n`);
      }
    });

  program
    .command('move')
    .argument('<name>')
    .argument('<dir>', t('commands.clone.moveDir'))
    .description(t('commands.clone.moveDescription'))
    .option('--json', t('cli.jsonResult'))
    .action(async (name: string, dir: string, o: { json?: boolean }) => {
      const { task, result } = await moveMachineTask(core, name, path.resolve(dir));
      showTaskProgress(core, task.id);
      const r = await result;
      if (o.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      else process.stdout.write(`${t('commands.clone.moved', { name, dir: r.dir })}\n`);
    });
}
