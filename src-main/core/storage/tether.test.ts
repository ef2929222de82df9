import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tethered } from './tether.js';

describe('tethered', () => {
  it('gives children a parent-death signal through setpriv when it exists', () => {
    const [cmd, args] = tethered('qemu-img', ['info', 'x']);
    if (fs.existsSync('/usr/bin/setpriv') || fs.existsSync('/bin/setpriv'))
      expect([cmd, ...args]).toEqual([expect.stringMatching(/setpriv$/), '--pdeathsig', 'KILL', '--', 'qemu-img', 'info', 'x']);
    else expect(cmd).toBe('qemu-img');
  });
});
