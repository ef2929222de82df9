/** The German catalogue. */
import type { Catalogue } from '../catalogues.js';
import { cli } from './cli.js';
import { commands } from './commands.js';
import { menu } from './menu.js';

export const de: Catalogue = {
  cli,
  commands,
  menu,
  units: { bytes_one: '{{n}} Byte', bytes_other: '{{n}} Bytes' },
};
