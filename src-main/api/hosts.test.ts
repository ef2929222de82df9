import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { VMDESK_VERSION } from './hosts.js';
import { parseConsolePath } from '../server/console-bridge.js';
import { splitHostOption } from '../cli/program.js';

describe('hosts in the contract', () => {
  it("states package.json's version", () => {
    const pkg = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };
    expect(VMDESK_VERSION).toBe(pkg.version);
  });

  it('routes console streams by host, and refuses anything but a host name there', () => {
    const uuid = '0f0e0d0c-0b0a-4908-8706-050403020100';
    expect(parseConsolePath(`/console/serial/${uuid}`)).toEqual({ kind: 'serial', uuid });
    expect(parseConsolePath(`/host/lab/console/vnc/${uuid}`)).toEqual({ kind: 'vnc', uuid, host: 'lab' });
    expect(parseConsolePath(`/host/local/console/vnc/${uuid}`)).toEqual({ kind: 'vnc', uuid });
    for (const bad of [
      `/host/../console/vnc/${uuid}`,
      `/host/-oProxyCommand=x/console/vnc/${uuid}`,
      `/host//console/vnc/${uuid}`,
      `/host/a%2fb/console/vnc/${uuid}`,
    ])
      expect(parseConsolePath(bad)).toBeNull();
  });

  it('takes --host NAME only before the command', () => {
    expect(splitHostOption(['node', 'vmdesk', '--host', 'lab', 'list'])).toEqual({ host: 'lab', rest: ['list'] });
    expect(splitHostOption(['node', 'vmdesk', '--host=lab', 'console', 'web'])).toEqual({ host: 'lab', rest: ['console', 'web'] });
    expect(splitHostOption(['node', 'vmdesk', 'serve', '--host', '0.0.0.0'])).toBeNull();
  });
});
