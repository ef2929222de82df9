/** The host memory policy (automatic overcommit), run by a detached process (STUB: to be written — issue 11). */
import { VmdeskError } from '../../api/errors.js';
import type { MemoryPolicyInput, MemoryPolicyStatus } from '../../api/resources.js';
import type { Core } from '../core.js';

export function memoryPolicyStatus(_core: Core): Promise<MemoryPolicyStatus> {
  return Promise.reject(new VmdeskError('HOST_UNSUPPORTED', 'The memory policy is not available in this build yet'));
}

export function setMemoryPolicy(_core: Core, _input: MemoryPolicyInput): Promise<MemoryPolicyStatus> {
  return Promise.reject(new VmdeskError('HOST_UNSUPPORTED', 'The memory policy is not available in this build yet'));
}

/** When the policy is on, make sure its process runs (started detached, like an internal network's switch). */
export function ensureMemoryPolicy(_core: Core): Promise<void> {
  return Promise.resolve();
}
