/**
 * The fuses of the packaged app (Electron security checklist, item 19), read the way electron-builder
 * reads them: electron-builder.yml loaded and validated by electron-builder's own config code (an
 * unknown key fails its schema), then turned into the fuse wire by the very function that flips the
 * fuses before signing. The packaged binary itself cannot be built here (no Electron binary).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { FuseV1Options, FuseVersion } from '@electron/fuses';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const require = createRequire(import.meta.url);

interface BuilderConfig {
  electronFuses?: Record<string, boolean> | null;
}
// The package entry first: its modules require one another in a cycle that only resolves from there.
const { PlatformPackager } = require('app-builder-lib') as {
  PlatformPackager: { prototype: { generateFuseConfig(fuses: unknown): Promise<Record<string | number, unknown>> } };
};
const config = require('app-builder-lib/out/util/config/config.js') as {
  getConfig(projectDir: string, configPath: string | null, fromOptions: null): Promise<BuilderConfig>;
  validateConfiguration(config: BuilderConfig, logger: unknown): Promise<void>;
};
const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };

async function fuseWire(): Promise<Record<string | number, unknown>> {
  const loaded = await config.getConfig(ROOT, path.join(ROOT, 'electron-builder.yml'), null);
  await config.validateConfiguration(loaded, new DebugLogger(false));
  return PlatformPackager.prototype.generateFuseConfig.call(null, loaded.electronFuses);
}

describe('the fuses electron-builder flips in the packaged app', () => {
  it('turns off NODE_OPTIONS and the --inspect flags, encrypts cookies, loads the app only from its checked asar', async () => {
    const wire = await fuseWire();
    expect(wire.version).toBe(FuseVersion.V1);
    expect(wire[FuseV1Options.EnableNodeOptionsEnvironmentVariable]).toBe(false);
    expect(wire[FuseV1Options.EnableNodeCliInspectArguments]).toBe(false);
    expect(wire[FuseV1Options.EnableCookieEncryption]).toBe(true);
    expect(wire[FuseV1Options.EnableEmbeddedAsarIntegrityValidation]).toBe(true);
    expect(wire[FuseV1Options.OnlyLoadAppFromAsar]).toBe(true);
  });

  it('keeps runAsNode on, which the detached per-VM agent and network switch need, and file:// privileges for the renderer', async () => {
    const wire = await fuseWire();
    // bin/vmdesk-agent.cjs and bin/vmdesk-switch.cjs run in the app's own binary as plain Node.
    expect(wire[FuseV1Options.RunAsNode]).toBe(true);
    expect(wire[FuseV1Options.GrantFileProtocolExtraPrivileges]).toBe(true);
    // Every fuse is decided in the config, none left to Electron's default by omission.
    const decided = Object.keys(wire).filter((k) => k !== 'version' && k !== 'resetAdHocDarwinSignature' && wire[k] !== undefined);
    expect(decided.map(Number).sort()).toEqual(
      [
        FuseV1Options.RunAsNode,
        FuseV1Options.EnableCookieEncryption,
        FuseV1Options.EnableNodeOptionsEnvironmentVariable,
        FuseV1Options.EnableNodeCliInspectArguments,
        FuseV1Options.EnableEmbeddedAsarIntegrityValidation,
        FuseV1Options.OnlyLoadAppFromAsar,
        FuseV1Options.GrantFileProtocolExtraPrivileges,
      ].sort(),
    );
  });

  it('is a config electron-builder refuses when a fuse is misspelt', async () => {
    const loaded = await config.getConfig(ROOT, path.join(ROOT, 'electron-builder.yml'), null);
    const misspelt = { ...loaded, electronFuses: { ...loaded.electronFuses, runAsNodeX: false } };
    await expect(config.validateConfiguration(misspelt, new DebugLogger(false))).rejects.toThrow(/configuration.electronFuses should be/);
  });
});
