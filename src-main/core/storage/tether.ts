/**
 * Child processes that die with the core: a long `qemu-img convert` or `cp` left running by a
 * killed core would go on writing into a staging folder and keep the source image locked. Linux's
 * parent-death signal (prctl PR_SET_PDEATHSIG, through util-linux `setpriv --pdeathsig`) kills such
 * a child with its parent; where setpriv is missing the command runs as is.
 */
import { accessSync, constants } from 'node:fs';

const SETPRIV_PATHS = ['/usr/bin/setpriv', '/bin/setpriv'];
let setpriv: string | null | undefined;

function findSetpriv(): string | null {
  if (setpriv === undefined) {
    setpriv = null;
    if (process.platform === 'linux') {
      for (const candidate of SETPRIV_PATHS) {
        try {
          accessSync(candidate, constants.X_OK);
          setpriv = candidate;
          break;
        } catch {
          // not there
        }
      }
    }
  }
  return setpriv;
}

/** The command and argv to spawn so that `command` is killed when this process dies. */
export function tethered(command: string, args: string[]): [string, string[]] {
  const wrapper = findSetpriv();
  return wrapper ? [wrapper, ['--pdeathsig', 'KILL', '--', command, ...args]] : [command, args];
}
