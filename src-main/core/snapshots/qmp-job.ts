/**
 * A QEMU job (block-stream, blockdev-create) followed to its end through the machine's agent:
 * progress reported, cancelled on abort, dismissed once concluded, and its error made a VmdeskError.
 */
import { VmdeskError } from '../../api/errors.js';
import type { AgentClient } from '../agent/agent-client.js';

interface Job {
  id: string;
  status: string;
  'current-progress': number;
  'total-progress': number;
  error?: string;
}

const POLL_MS = 100;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for job `jobId` (started with `auto-dismiss: false`); `what` says what it does, for its error. */
export async function awaitJob(
  client: Pick<AgentClient, 'qmp'>,
  jobId: string,
  what: string,
  options: { onProgress?(fraction: number): void; signal?: AbortSignal } = {},
): Promise<void> {
  let cancelling = false;
  for (;;) {
    const job = (await client.qmp<Job[]>('query-jobs')).find((j) => j.id === jobId);
    if (!job) throw new VmdeskError('QEMU_FAILED', `QEMU lost the job ${jobId}`);
    if (job.status === 'concluded') {
      await client.qmp('job-dismiss', { id: jobId });
      if (job.error) throw new VmdeskError('QEMU_FAILED', `QEMU could not ${what}: ${job.error}`);
      options.onProgress?.(1);
      return;
    }
    if (options.signal?.aborted && !cancelling) {
      cancelling = true;
      await client.qmp('job-cancel', { id: jobId });
    }
    if (job['total-progress'] > 0) options.onProgress?.(job['current-progress'] / job['total-progress']);
    await sleep(POLL_MS);
  }
}
