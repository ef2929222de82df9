/**
 * What a machine's adapters need before QEMU starts: a usable bridge for each bridged adapter, a
 * free host port for each NAT forward, and a running switch for each internal network. Any failure
 * is a clear error and nothing is started.
 */
import type { MachineConfig } from '../../api/machine-config.js';
import type { LaunchSpec } from '../qemu/qemu-args.js';
import { requireBridgeUsable } from './bridge-host.js';
import { adapterNumber, natForwards, requireHostPortFree } from './host-ports.js';
import { ensureInternalSwitch } from './internal-switch.js';

export type NetworkLaunch = Pick<LaunchSpec, 'bridgeHelper' | 'internalSockets' | 'sandbox'>;

export async function networkForStart(
  config: MachineConfig,
  options: { qemuBinary: string; env: NodeJS.ProcessEnv },
): Promise<NetworkLaunch> {
  const launch: NetworkLaunch = {};
  for (const nic of config.nics) {
    if (nic.attachment.type !== 'bridged') continue;
    launch.bridgeHelper = await requireBridgeUsable(nic.attachment.bridge, `Adapter ${adapterNumber(nic.id)} of ${config.name}`, {
      qemuBinary: options.qemuBinary,
      env: options.env,
    });
    // The setuid helper cannot gain its rights under seccomp's no_new_privs: such a QEMU runs unsandboxed.
    if ((process.getuid?.() ?? 0) !== 0) launch.sandbox = false;
  }
  for (const { rule, label } of natForwards(config)) {
    await requireHostPortFree(rule, `${label} of ${config.name}, which was not started`);
  }
  const sockets: Record<string, string> = {};
  for (const nic of config.nics) {
    if (nic.attachment.type === 'internal') sockets[nic.id] = await ensureInternalSwitch(nic.attachment.network, options.env);
  }
  if (Object.keys(sockets).length > 0) launch.internalSockets = sockets;
  return launch;
}
