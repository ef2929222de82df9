import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src-main/**/*.test.ts', 'src-renderer/**/*.test.ts'],
          exclude: ['src-main/**/integration/**'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['src-main/**/integration/**/*.test.ts'],
          globalSetup: ['src-main/integration/global-setup.ts'],
          // Real QEMU guests under TCG on 2 cores: run files one after another.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'e2e',
          // The real UI (Chromium, Electron where present) against `vmdesk serve` and real QEMU.
          include: ['e2e/**/*.test.ts'],
          globalSetup: ['src-main/integration/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
