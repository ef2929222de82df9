import { defineConfig } from 'vitest/config';

/**
 * Integration files run two at a time: each makes its own library and runtime dir (harness
 * makeSandbox) and shares nothing with the others. A file that needs the machine alone — root loop
 * mounts, network namespaces, timing-sensitive or host-wide state — is named `*.serial.test.ts` and
 * runs in the integration-serial project, one file after another, after the parallel ones.
 */
const INTEGRATION = 'src-main/**/integration/**/*.test.ts';
const SERIAL = 'src-main/**/integration/**/*.serial.test.ts';

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
      {
        test: {
          name: 'integration-serial',
          include: [SERIAL],
          globalSetup: ['src-main/integration/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
          sequence: { groupOrder: 2 },
        },
      },
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
          sequence: { groupOrder: 3 },
        },
      },
    ],
  },
});
