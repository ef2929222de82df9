/** Page sharing: the host's KSM (STUB: to be written — issue 11). */
import { VmdeskError } from '../../api/errors.js';
import type { KsmInput, KsmStatus } from '../../api/resources.js';
import type { Core } from '../core.js';

export function ksmStatus(_core: Core): Promise<KsmStatus> {
  return Promise.reject(new VmdeskError('HOST_UNSUPPORTED', 'Page sharing is not available in this build yet'));
}

export function setKsm(_core: Core, _input: KsmInput): Promise<KsmStatus> {
  return Promise.reject(new VmdeskError('HOST_UNSUPPORTED', 'Page sharing is not available in this build yet'));
}
