/** The English catalogue: the source every other language translates, key for key. */
import { cli } from './cli.js';
import { commands } from './commands.js';
import { menu } from './menu.js';

export const en = {
  cli,
  commands,
  menu,
  units: { bytes_one: '{{n}} byte', bytes_other: '{{n}} bytes' },
};
