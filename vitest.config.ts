import { defineConfig } from 'vitest/config';

/**
 * Integration files run two at a time: each makes its own library and runtime dir (harness
 * makeSandbox) and shares nothing with the others. A file that touches host-wide state — root loop
 * and FUSE mounts, network namespaces, cgroups, KSM — or times what it does is named
 * `*.serial.test.ts` and runs after the parallel ones, one file at a time in its lane:
 * - alone (integration-serial): whatever times CPU, memory or links, and any serial file not named
 *   below (the safe default for a new one);
 * - then two lanes side by side, each one file after another: files of the second host (a network
 *   namespace with sshd, the internal network's namespace) and files of mounted filesystems (loop,
 *   FUSE), split so that the lanes take about as long. No file of one lane shares host state with a
 *   file of the other, and what they check does not hang on a quiet CPU. One vitest runs the files
 *   of projects without file parallelism one at a time, so scripts/test-all.mjs runs each lane in a
 *   vitest of its own.
 */
const INTEGRATION = 'src-main/**/integration/**/*.test.ts';
const SERIAL = 'src-main/**/integration/**/*.serial.test.ts';
const serialFiles = (names: string[]): string[] => names.map((n) => `src-main/integration/${n}.serial.test.ts`);
// The files of the two lanes, each lane's total about the same (in a clean-clone run on 2 cores,
// 2026-12-03 16:00: migration 183 s, clone-move 173, portability 110, migration-encrypted 74, debris
// 63, network-internal 59, backup-full 47, remote-hosts 40, disk-full 32, unsynced-writes 22,
// durability 6, reflink 5): lane 1 the second host's files and backup-full (≈400 s), lane 2 the
// other mounted filesystems' (≈410 s).
const LANE_1 = serialFiles(['migration', 'migration-encrypted', 'network-internal', 'remote-hosts', 'backup-full']);
const LANE_2 = serialFiles(['clone-move', 'portability', 'debris', 'disk-full', 'unsynced-writes', 'durability', 'reflink']);
const serialLane = (name: string, include: string[], exclude: string[], groupOrder: number) => ({
  test: {
    name,
    include,
    exclude,
    globalSetup: ['src-main/integration/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    sequence: { groupOrder },
  },
});

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src-main/**/*.test.ts', 'src-renderer/**/*.test.ts'],
          exclude: ['src-main/**/integration/**'],
          testTimeout: 20_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: [INTEGRATION],
          exclude: [SERIAL],
          globalSetup: ['src-main/integration/global-setup.ts'],
          // Real QEMU guests under TCG on 2 cores: two files at a time, hence the generous timeouts.
          fileParallelism: true,
          maxWorkers: 2,
          testTimeout: 180_000,
          hookTimeout: 240_000,
          sequence: { groupOrder: 1 },
        },
      },
      serialLane('integration-serial', [SERIAL], [...LANE_1, ...LANE_2], 2),
      serialLane('integration-serial-lane-1', LANE_1, [], 3),
      serialLane('integration-serial-lane-2', LANE_2, [], 3),
      {
        test: {
          name: 'e2e',
          // The real UI (Chromium, Electron where present) against `vmdesk serve` and real QEMU.
          include: ['e2e/**/*.test.ts'],
          globalSetup: ['src-main/integration/global-setup.ts'],
          // Each file serves its own library on its own port with its own browser: two at a time.
          fileParallelism: true,
          maxWorkers: 2,
          testTimeout: 180_000,
          hookTimeout: 180_000,
          sequence: { groupOrder: 4 },
        },
      },
    ],
  },
});
