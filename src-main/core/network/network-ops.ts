/**
 * Network changes as core operations: adapters (attachment, model, MAC, cable) and NAT port
 * forwards, under the machine's lock, live through QMP where QEMU can (cable, port forwards).
 */
import type { NetworkHostInfo, NetworkOutcome, PortForwardInput, SetNicInput } from '../../api/network.js';
import { VmdeskError } from '../../api/errors.js';
import type { Core } from '../core.js';

// TODO(issue 5, network core): implemented by the network core work; see /work/briefs/issue5.md.
export function networkHostOp(_core: Core): Promise<NetworkHostInfo> {
  return Promise.reject(new VmdeskError('INTERNAL', 'networkHost: not built yet'));
}

export function setNicOp(_core: Core, _ref: string, _slot: number, _input: SetNicInput): Promise<NetworkOutcome> {
  return Promise.reject(new VmdeskError('INTERNAL', 'setNic: not built yet'));
}

export function addPortForwardOp(_core: Core, _ref: string, _slot: number, _rule: PortForwardInput): Promise<NetworkOutcome> {
  return Promise.reject(new VmdeskError('INTERNAL', 'addPortForward: not built yet'));
}

export function removePortForwardOp(_core: Core, _ref: string, _slot: number, _name: string): Promise<NetworkOutcome> {
  return Promise.reject(new VmdeskError('INTERNAL', 'removePortForward: not built yet'));
}
