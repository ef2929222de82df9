/** Reaching a running machine's agent from a Settings change applied live (balloon floor, CPU pinning). */
import { VmdeskError } from '../../api/errors.js';
import type { MachineConfig } from '../../api/machine-config.js';
import { AgentClient } from '../agent/agent-client.js';
import type { Core } from '../core.js';

/**
 * The agent of a running machine whose lock the caller holds (a Settings change applied live). An
 * agent that has gone cannot be replaced here — that takes the lock — so the error says which command
 * gives it a new one (`revive`) before the user changes `what` again.
 */
export async function lockedAgent(core: Core, config: MachineConfig, revive: string, what: string): Promise<AgentClient> {
  if (core.runtime.status(config.uuid).orphaned)
    throw new VmdeskError(
      'INVALID_STATE',
      `${config.name}'s agent is gone: run \`${revive}\` to give it a new one, then change ${what} again`,
    );
  return AgentClient.connect(core.runtime.file(config.uuid, 'agent')).catch(() => {
    throw new VmdeskError('INVALID_STATE', `${config.name} is not reachable: its agent does not answer`);
  });
}
