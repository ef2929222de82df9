/** Live figures of machines and of the host: one sampler per core, only while someone watches (STUB — issue 11). */
import { VmdeskError } from '../../api/errors.js';
import type { HostStats, MachineStats } from '../../api/resources.js';
import type { Core } from '../core.js';

export class StatsSampler {
  constructor(private readonly core: Core) {}

  machine(_ref: string): Promise<MachineStats> {
    void this.core;
    return Promise.reject(new VmdeskError('HOST_UNSUPPORTED', 'Statistics are not available in this build yet'));
  }

  host(): Promise<HostStats> {
    return Promise.reject(new VmdeskError('HOST_UNSUPPORTED', 'Statistics are not available in this build yet'));
  }

  /** Stop sampling (the core is closing). */
  stop(): void {}
}
