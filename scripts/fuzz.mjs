#!/usr/bin/env node
// `npm run fuzz`: the property-based and fuzz tests (every file with "fuzz" in its name: the
// parsers' in the unit project, the CLI's and the API's in the integration project) as a long
// campaign. In the suites they run a bounded number of cases with a fixed seed; here:
//   VMDESK_FUZZ_RUNS  cases per property (default 2000; the CLI's, a process per case, take a quarter)
//   VMDESK_FUZZ_SEED  the seed (default: a new one, printed, so that a failure can be replayed)
//   npm run fuzz -- unit | integration   one project only
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const runs = process.env.VMDESK_FUZZ_RUNS ?? '2000';
const seed = process.env.VMDESK_FUZZ_SEED ?? String(Math.floor(Math.random() * 2 ** 31));
const only = process.argv[2];
const projects = only ? [only] : ['unit', 'integration'];

console.log(`Fuzzing with VMDESK_FUZZ_RUNS=${runs} VMDESK_FUZZ_SEED=${seed} (${projects.join(', ')})`);
let failed = false;
for (const project of projects) {
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--project', project, 'fuzz'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, VMDESK_FUZZ_RUNS: runs, VMDESK_FUZZ_SEED: seed },
  });
  if (r.status !== 0) failed = true;
}
if (failed) console.log(`A property failed: VMDESK_FUZZ_RUNS=${runs} VMDESK_FUZZ_SEED=${seed} npm run fuzz replays the campaign.`);
process.exitCode = failed ? 1 : 0;
