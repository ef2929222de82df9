/**
 * Merging a deleted snapshot's image into its child while QEMU runs on that chain: qemu-img must not
 * write an image a running QEMU has open, so QEMU does it — block-stream into the child (an
 * intermediate node, or the top), which copies in what the child lacks and then points it at the
 * deleted image's own backing file (written relative, as VMDesk's overlays are). The same result as
 * the safe rebase done on a stopped machine.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import type { AgentClient } from '../agent/agent-client.js';
import { relativeBacking } from './images.js';
import { awaitJob } from './qmp-job.js';

interface BlockNode {
  'node-name': string;
  file: string;
  drv: string;
}

/**
 * The image file of a format node: QEMU names a node with a backing chain by a `json:` description
 * of the whole chain, whose top-level `file` is the node's own image.
 */
export function imageOf(file: string): string | null {
  if (!file.startsWith('json:')) return path.resolve(file);
  try {
    const filename = (JSON.parse(file.slice('json:'.length)) as { file?: { filename?: unknown } }).file?.filename;
    return typeof filename === 'string' ? path.resolve(filename) : null;
  } catch {
    return null;
  }
}

async function nodeOf(client: AgentClient, file: string): Promise<string> {
  const nodes = await client.qmp<BlockNode[]>('query-named-block-nodes', { flat: true });
  const node = nodes.find((n) => n.drv === 'qcow2' && imageOf(n.file) === file);
  if (!node) throw new VmdeskError('INTERNAL', `The running machine has no block node for ${file}`);
  return node['node-name'];
}

export async function streamIntoChild(
  client: AgentClient,
  childFile: string,
  newBacking: string | null,
  options: { onProgress?(fraction: number): void; signal?: AbortSignal } = {},
): Promise<void> {
  const jobId = `merge-${randomUUID().slice(0, 8)}`;
  const args: Record<string, unknown> = { 'job-id': jobId, device: await nodeOf(client, childFile), 'auto-dismiss': false };
  if (newBacking) {
    args['base-node'] = await nodeOf(client, newBacking);
    args['backing-file'] = relativeBacking(childFile, newBacking);
  }
  await client.qmp('block-stream', args);
  await awaitJob(client, jobId, `merge into ${childFile}`, options);
}
