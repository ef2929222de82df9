/** The German catalogue: exactly the English keys (a missing or extra one is a type error here). */
import type en from '../en';
import commandsMessages from './commands';
import commonMessages from './common';
import consoleMessages from './console';
import coreMessages from './core';
import dialogsMessages from './dialogs';
import errorsMessages from './errors';
import machineMessages from './machine';
import mainMessages from './main';
import migrationMessages from './migration';
import performanceMessages from './performance';
import preferencesMessages from './preferences';
import settingsMessages from './settings';
import snapshotsMessages from './snapshots';
import wizardMessages from './wizard';

export default {
  commands: commandsMessages,
  common: commonMessages,
  console: consoleMessages,
  core: coreMessages,
  dialogs: dialogsMessages,
  errors: errorsMessages,
  machine: machineMessages,
  main: mainMessages,
  migration: migrationMessages,
  performance: performanceMessages,
  preferences: preferencesMessages,
  settings: settingsMessages,
  snapshots: snapshotsMessages,
  wizard: wizardMessages,
} satisfies typeof en;
