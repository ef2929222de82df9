/** The English catalogue: the source every other language follows, one module per area of the UI. */
import commands from './commands';
import common from './common';
import preferences from './preferences';

export default {
  commands,
  common,
  preferences,
};
