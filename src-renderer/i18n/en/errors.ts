/**
 * Failures and their boxes: what could not be done ("Cannot start web"), task outcomes, the
 * passphrase prompt. The reason after them is the core's own message, shown as the core words it.
 */
export default {
  invalidValue: 'Invalid value',
  invalid: 'invalid',
  connectionLost: 'The connection to VMDesk was lost; reconnecting',
  notConnected: 'Not connected to VMDesk; reconnecting',
  listMachines: 'Cannot list the machines',
  hostCapabilities: 'Cannot read the host capabilities',
  listTasks: 'Cannot list tasks',
  cancelTask: 'Cannot cancel the task',
  cannotStart: 'Cannot start {name}',
  cannotShutDown: 'Cannot shut down {name}',
  cannotPowerOff: 'Cannot power off {name}',
  cannotPause: 'Cannot pause {name}',
  cannotResume: 'Cannot resume {name}',
  cannotReset: 'Cannot reset {name}',
  cannotRemove: 'Cannot remove {name}',
  cannotRepair: 'Cannot repair {name}',
  cannotConnect: 'Cannot connect to {name}',
  cannotDisconnect: 'Cannot disconnect from {name}',
  taskCancelled: 'Cancelled: nothing was changed',
  taskFailed: 'The task failed',
  taskEnded: 'The task ended ({state})',
  taskDone: '{what}: done',
  taskWasCancelled: '{what}: cancelled',
  taskWhatFailed: '{what} failed',
  passphrase: {
    title: 'Start {name}',
    message: "{name}'s disks are encrypted. Its passphrase is needed to start it; it is kept nowhere.",
    placeholder: 'Passphrase',
    start: 'Start',
    unlocking: 'Unlocking…',
    empty: 'Type the passphrase',
    /** The same prompt for what else a stopped encrypted machine needs its passphrase for. */
    unlockTitle: 'Unlock {name}',
    unlockMessage: "{name}'s disks are encrypted and it is not running: its passphrase is needed for this; it is kept nowhere.",
    unlock: 'Unlock',
    notGiven: 'The passphrase was not given: nothing was done',
  },
};
