import { describe, expect, it } from 'vitest';
import {
  authenticityLines,
  emptyHostForm,
  hostFormErrors,
  hostFormToInput,
  sshHostDisplay,
  unknownHostKeys,
  type HostForm,
} from './host-form';

const FP = 'SHA256:' + 'A'.repeat(43);

describe('the Add host form', () => {
  const form = (f: Partial<HostForm>): HostForm => ({ ...emptyHostForm(), ...f });

  it('becomes the addHost input: trimmed, empty optional fields left out, the port a number', () => {
    expect(hostFormToInput(form({ name: ' lab ', destination: ' me@lab ' }))).toEqual({ name: 'lab', destination: 'me@lab' });
    expect(
      hostFormToInput(
        form({ name: 'lab', destination: 'lab', port: '2222', identity: '/k', remoteHome: '/srv/vms', remoteCommand: 'vmdesk-dev' }),
        FP,
      ),
    ).toEqual({
      name: 'lab',
      destination: 'lab',
      port: 2222,
      identity: '/k',
      remoteHome: '/srv/vms',
      remoteCommand: 'vmdesk-dev',
      acceptHostKey: FP,
    });
  });

  it('accepts a plain entry', () => {
    expect(hostFormErrors(form({ name: 'lab', destination: 'me@lab.example' }))).toEqual({});
    expect(hostFormErrors(form({ name: 'lab-2', destination: 'ssh://me@[::1]:2222' }))).toEqual({});
  });

  it('refuses what the core refuses, in its words', () => {
    const e = hostFormErrors(
      form({ name: 'local', destination: '-oProxyCommand=sh', port: '70000', identity: 'key', remoteHome: "/a'b", remoteCommand: 'a\nb' }),
    );
    expect(e.name).toMatch(/this computer/);
    expect(e.destination).toMatch(/cannot start with "-"/);
    expect(e.port).toMatch(/65535/);
    expect(e.identity).toBeTruthy();
    expect(e.remoteHome).toMatch(/quote/);
    expect(e.remoteCommand).toMatch(/control characters/);
  });

  it('says a port that is not a number is not one, and needs a name and a destination', () => {
    expect(hostFormErrors(form({ name: 'lab', destination: 'lab', port: '22a' })).port).toBe('The port must be a whole number');
    const e = hostFormErrors(form({}));
    expect(e.name).toBeTruthy();
    expect(e.destination).toMatch(/SSH destination is needed/);
  });

  it('refuses a name already added', () => {
    expect(hostFormErrors(form({ name: 'lab', destination: 'lab' }), new Set(['lab'])).name).toMatch(/already added/);
  });
});

describe('host keys', () => {
  it('reads the keys of an unknown-key failure, and nothing from a changed-key one', () => {
    expect(unknownHostKeys({ keys: [{ type: 'ED25519', fingerprint: FP }] })).toEqual([{ type: 'ED25519', fingerprint: FP }]);
    expect(unknownHostKeys({ keys: [] })).toBeNull();
    expect(unknownHostKeys(undefined)).toBeNull();
    expect(unknownHostKeys({ keys: [{ type: 1 }] })).toBeNull();
    expect(unknownHostKeys({ mismatch: true, keys: [{ type: 'ED25519', fingerprint: FP }] })).toBeNull();
  });

  it('names the host as ssh does', () => {
    expect(sshHostDisplay('me@lab')).toBe('lab');
    expect(sshHostDisplay('lab', 22)).toBe('lab');
    expect(sshHostDisplay('me@10.0.0.2', 2222)).toBe('[10.0.0.2]:2222');
    expect(sshHostDisplay('ssh://me@lab:2200')).toBe('[lab]:2200');
    expect(sshHostDisplay('ssh://me@[fe80::1]:2200')).toBe('[fe80::1]:2200');
  });

  it("says it in ssh's own words", () => {
    expect(authenticityLines('me@lab', undefined, [{ type: 'ed25519', fingerprint: FP }])).toEqual([
      "The authenticity of host 'lab' can't be established.",
      `ED25519 key fingerprint is ${FP}.`,
    ]);
  });
});
