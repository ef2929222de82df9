// Before any integration test: build the CLI and agent, and build (or find) the demo guest once.
import { ensureDemoGuest } from '../core/demo/demo-guest.js';
import { build } from './harness.js';

export default async function setup(): Promise<void> {
  // VMDESK_TEST_SKIP_BUILD=1 reuses dist/ as it is (when iterating on one test file).
  if (!process.env.VMDESK_TEST_SKIP_BUILD) build();
  await ensureDemoGuest({ onLog: (line) => process.stdout.write(`[demo-guest] ${line}\n`) });
}
