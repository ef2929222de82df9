import path from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Integration files run two at a time, longest first (the sequencer below): each makes its own
 * library and runtime dir (harness makeSandbox) and shares nothing with the others. A file that touches host-wide state — root loop
 * and FUSE mounts, network namespaces, cgroups, KSM — or times what it does is named
 * `*.serial.test.ts` and runs after the parallel ones, one file at a time in its lane:
 * - alone (integration-serial): whatever times CPU, memory or links, and any serial file not named
 *   below (the safe default for a new one); e2e-serial's files (the e2e files that time the CPU) run
 *   in the same vitest, one file at a time with them;
 * - then two lanes side by side, each one file after another: files of the second host (a network
 *   namespace with sshd, the internal network's namespace) and files of mounted filesystems (loop,
 *   FUSE), split so that the lanes take about as long. No file of one lane shares host state with a
 *   file of the other, and what they check does not hang on a quiet CPU. One vitest runs the files
 *   of projects without file parallelism one at a time, so scripts/test-all.mjs runs each lane in a
 *   vitest of its own.
 * e2e files serve their own library on their own port with their own browser, and run two at a time
 * after the lanes (e2e), but for what times the CPU (e2e-serial: resources' CPU graph against QEMU's
 * CPU time, its busy guest to reach 60 % of a core), which runs with integration-serial, alone. (The
 * e2e files beside the lanes were tried: the lanes' long migration tests then ran past their time.)
 */
const INTEGRATION = 'src-main/**/integration/**/*.test.ts';
const SERIAL = 'src-main/**/integration/**/*.serial.test.ts';
const serialFiles = (names: string[]): string[] => names.map((n) => `src-main/integration/${n}.serial.test.ts`);
// The files of the two lanes, each lane's total about the same (clean-clone run on 2 cores,
// 2026-12-04 02:50: migration 206 s, clone-move 112, migration-encrypted 90, portability 90,
// backup-full 77, debris 64, network-internal 58, disk-full 43, remote-hosts 42, unsynced-writes 28,
// durability 6, reflink 4): lane 1 the second host's files and unsynced-writes' FUSE mount of its own
// (≈425 s), lane 2 the other mounted filesystems' (≈400 s).
const LANE_1 = serialFiles(['migration', 'migration-encrypted', 'network-internal', 'remote-hosts', 'unsynced-writes']);
const LANE_2 = serialFiles(['clone-move', 'portability', 'debris', 'backup-full', 'disk-full', 'durability', 'reflink']);
const E2E_SERIAL = ['e2e/resources.test.ts'];
const project = (
  name: string,
  include: string[],
  exclude: string[],
  groupOrder: number,
  files: { fileParallelism: boolean; maxWorkers?: number },
  timeouts: { testTimeout: number; hookTimeout: number },
) => ({
  test: { name, include, exclude, globalSetup: ['src-main/integration/global-setup.ts'], ...files, ...timeouts, sequence: { groupOrder } },
});
const SERIAL_TIMEOUTS = { testTimeout: 120_000, hookTimeout: 180_000 };
// The real UI (Chromium, Electron where present) against `vmdesk serve` and real QEMU.
const E2E_TIMEOUTS = { testTimeout: 180_000, hookTimeout: 180_000 };
const ONE_AT_A_TIME = { fileParallelism: false };
const TWO_AT_A_TIME = { fileParallelism: true, maxWorkers: 2 };

/**
 * Seconds each file took (2026-12-03, on this 2-core machine shared with other work, so only their
 * order counts), for the order the files start in: longest first, so that the workers of a project
 * end together instead of one long file running on alone at the end. vitest's own order on a clean
 * clone is the largest file first, which is not the longest: boot-sources (142 s) started 24th of
 * 34, 873 s into a 1103 s run. Files not named here start after these, largest first: name a new
 * file that takes long.
 */
const SECONDS: Record<string, number> = {
  // integration (a run on 2026-12-03 under a load of ≈ 5 from other work: the order is what counts;
  // cli-fuzz from the clean-clone rehearsal, as it failed early in that run)
  'src-main/integration/encryption-snapshots.test.ts': 170,
  'src-main/integration/snapshots.test.ts': 148,
  'src-main/integration/boot-sources.test.ts': 142,
  'src-main/integration/backup-encrypted.test.ts': 136,
  'src-main/integration/backup.test.ts': 134,
  'src-main/integration/races.test.ts': 114,
  'src-main/integration/launcher.test.ts': 111,
  'src-main/integration/lifecycle.test.ts': 102,
  'src-main/integration/disks.test.ts': 93,
  'src-main/integration/encryption.test.ts': 89,
  'src-main/integration/schedule.test.ts': 87,
  'src-main/integration/hostile-images.test.ts': 83,
  'src-main/integration/adoption.test.ts': 78,
  'src-main/integration/crash-consistency.test.ts': 71,
  'src-main/integration/balloon.test.ts': 62,
  'src-main/integration/console-restore.test.ts': 59,
  'src-main/integration/network.test.ts': 54,
  'src-main/integration/quit-decision.test.ts': 48,
  'src-main/integration/api-fuzz.test.ts': 37,
  'src-main/integration/stats.test.ts': 36,
  'src-main/integration/cli-i18n.test.ts': 31,
  'src-main/integration/cli-fuzz.test.ts': 96,
  'src-main/integration/nic-models.test.ts': 29,
  'src-main/integration/manager-death.test.ts': 28,
  'src-main/integration/machine-files.test.ts': 23,
  'src-main/integration/bad-input.test.ts': 21,
  // e2e (a run beside the lanes under a load of ≈ 19: the order is what counts)
  'e2e/manager.test.ts': 498,
  'e2e/snapshots-clone.test.ts': 184,
  'e2e/i18n.test.ts': 144,
  'e2e/keyboard.test.ts': 142,
  'e2e/hostile-text.test.ts': 116,
  'e2e/backup.test.ts': 79,
  'e2e/security.test.ts': 25,
};

/** Project by project as vitest orders them (groupOrder, then name), each project's files longest first. */
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const bySize = await super.sort(files);
    const seconds = (f: TestSpecification): number => SECONDS[path.relative(f.project.config.root, f.moduleId)] ?? -1;
    const group = (f: TestSpecification): [number, string] => [f.project.config.sequence.groupOrder, f.project.name];
    return bySize
      .map((f, i) => ({ f, i }))
      .sort((a, b) => {
        const [ga, na] = group(a.f);
        const [gb, nb] = group(b.f);
        if (ga !== gb) return ga - gb;
        if (na !== nb) return na < nb ? -1 : 1;
        return seconds(b.f) - seconds(a.f) || a.i - b.i;
      })
      .map(({ f }) => f);
  }
}

export default defineConfig({
  test: {
    sequence: { sequencer: LongestFirst },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src-main/**/*.test.ts', 'src-renderer/**/*.test.ts'],
          exclude: ['src-main/**/integration/**'],
          // Two files at a time, in workers that keep their loaded modules from file to file: on 2 cores
          // vitest's default is one worker, and loading each file's imports afresh was most of the time
          // (126 s, 43 s of it tests; 35 s so; the files pass in any order, --sequence.shuffle.files).
          maxWorkers: 2,
          isolate: false,
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
          // (Three were tried: the files mostly wait, but the races test's timed CLI starts lost to
          // the third file's guests.)
          fileParallelism: true,
          maxWorkers: 2,
          testTimeout: 180_000,
          hookTimeout: 240_000,
          sequence: { groupOrder: 1 },
        },
      },
      project('integration-serial', [SERIAL], [...LANE_1, ...LANE_2], 2, ONE_AT_A_TIME, SERIAL_TIMEOUTS),
      project('e2e-serial', E2E_SERIAL, [], 3, ONE_AT_A_TIME, E2E_TIMEOUTS),
      project('integration-serial-lane-1', LANE_1, [], 4, ONE_AT_A_TIME, SERIAL_TIMEOUTS),
      project('integration-serial-lane-2', LANE_2, [], 4, ONE_AT_A_TIME, SERIAL_TIMEOUTS),
      project('e2e', ['e2e/**/*.test.ts'], E2E_SERIAL, 5, TWO_AT_A_TIME, E2E_TIMEOUTS),
    ],
  },
});
