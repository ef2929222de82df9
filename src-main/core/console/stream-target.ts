/**
 * The unix socket a console stream of a running machine connects to: the agent's console.sock
 * (serial) or QEMU's VNC socket. The core looks a machine up by uuid or by name, and a name may look
 * like a uuid: a stream asked for by uuid gets the machine of that uuid or nothing, never one whose
 * name happens to be that uuid (say, created after the machine of the uuid was deleted).
 */
import { VmdeskError } from '../../api/errors.js';
import type { Core } from '../core.js';

export type ConsoleKind = 'serial' | 'vnc';

export async function streamTarget(core: Core, kind: ConsoleKind, uuid: string): Promise<string> {
  const machine = await core.get(uuid);
  if (machine.uuid !== uuid) throw new VmdeskError('NOT_FOUND', `No machine with uuid ${uuid}`);
  if (kind === 'serial') {
    const socket = await core.consoleSocket(uuid);
    if (socket !== core.runtime.file(uuid, 'console')) throw new VmdeskError('NOT_FOUND', `No machine with uuid ${uuid}`);
    return socket;
  }
  if (!core.runtime.isActive(machine.status.state))
    throw new VmdeskError('INVALID_STATE', `${machine.config.name} is not running (it is ${machine.status.state})`);
  if (machine.config.display.adapter === 'none') throw new VmdeskError('INVALID_STATE', `${machine.config.name} has no display`);
  return core.runtime.file(uuid, 'vnc');
}
