/** The German catalogue: exactly the English keys (a missing or extra one is a type error here). */
import type en from '../en';
import commands from './commands';
import common from './common';
import preferences from './preferences';

export default {
  commands,
  common,
  preferences,
} satisfies typeof en;
