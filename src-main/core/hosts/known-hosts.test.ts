import { describe, expect, it } from 'vitest';
import { API_VERSION, type RemoteHello } from '../../api/hosts.js';
import { knownHostsOption, parseKeygenFingerprints } from './known-hosts.js';
import { helloProblem } from './remote-connection.js';
import { hostKeyChanged, hostKeyUnknown, sshFailure } from './ssh-run.js';

describe('host keys', () => {
  it('reads ssh-keygen -l output', () => {
    const out =
      '256 SHA256:Nozb84Isg6cv7sdC9vtmzDrZ+bdcmP0YAwDWoIYJOu4 [127.0.0.1]:2299 (ED25519)\n' +
      '3072 SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA lab (RSA)\n';
    expect(parseKeygenFingerprints(out)).toEqual([
      { type: 'ED25519', fingerprint: 'SHA256:Nozb84Isg6cv7sdC9vtmzDrZ+bdcmP0YAwDWoIYJOu4' },
      { type: 'RSA', fingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
    ]);
  });

  it('quotes known_hosts files with spaces for ssh', () => {
    expect(knownHostsOption(['/a/known_hosts', '/b c/kh'])).toBe('UserKnownHostsFile=/a/known_hosts "/b c/kh"');
  });

  it("tells a changed key from an unknown one by ssh's words", () => {
    const changed = '@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n@@@@@\nHost key verification failed.\n';
    expect(hostKeyChanged(changed)).toBe(true);
    expect(hostKeyUnknown(changed)).toBe(false);
    expect(
      hostKeyUnknown('No ED25519 host key is known for lab and you have requested strict checking.\nHost key verification failed.'),
    ).toBe(true);
    const error = sshFailure('lab', 'lab', changed);
    expect(error.code).toBe('HOST_KEY');
    expect(error.message).toContain('REMOTE HOST IDENTIFICATION HAS CHANGED');
    expect(sshFailure('lab', 'lab', 'root@lab: Permission denied (publickey).').code).toBe('UNREACHABLE');
  });
});

describe('remote hello', () => {
  const hello: RemoteHello = {
    product: 'vmdesk',
    version: '0.1.0',
    api: API_VERSION,
    oldestClientApi: API_VERSION,
    hostname: 'lab',
    home: '/srv',
    writable: true,
  };
  it('accepts a compatible VMDesk', () => expect(helloProblem('lab', hello)).toBeNull());
  it('says what to upgrade', () => {
    expect(helloProblem('lab', { ...hello, api: 0 })?.message).toMatch(/upgrade VMDesk on lab/);
    expect(helloProblem('lab', { ...hello, oldestClientApi: API_VERSION + 1 })?.message).toMatch(/upgrade VMDesk on this computer/);
    expect(helloProblem('lab', { ...hello, writable: false, writableError: 'EROFS' })).toMatchObject({ code: 'IO' });
  });
});
