import { describe, expect, it } from 'vitest';
import { addHostInputSchema, hostNameSchema, remoteHomeSchema, sshDestinationSchema } from '../../api/hosts.js';
import { remoteCommandLine, shellQuote, sshArgs } from './ssh-args.js';

const entry = { name: 'lab', destination: 'me@lab.example' };

describe('sshArgs', () => {
  it('ends the options with -- before the destination, the command last', () => {
    const args = sshArgs({ ...entry, port: 2222, identity: '/home/me/.ssh/id' }, { env: {}, command: "vmdesk 'stdio'" });
    const dashes = args.indexOf('--');
    expect(args.slice(dashes)).toEqual(['--', 'me@lab.example', "vmdesk 'stdio'"]);
    expect(args.slice(0, dashes)).toEqual(
      expect.arrayContaining(['-p', '2222', '-i', '/home/me/.ssh/id', 'BatchMode=yes', 'ForwardAgent=no']),
    );
  });

  it('passes VMDESK_SSH_CONFIG as -F and asks for a terminal only when told', () => {
    expect(sshArgs(entry, { env: { VMDESK_SSH_CONFIG: '/cfg' } }).slice(0, 2)).toEqual(['-F', '/cfg']);
    expect(sshArgs(entry, { env: {} })).toContain('RequestTTY=no');
    expect(sshArgs(entry, { env: {}, tty: true })).toContain('RequestTTY=force');
  });
});

describe('remote command line', () => {
  it('quotes every argument for the remote shell', () => {
    expect(shellQuote(`it's $(rm -rf /)`)).toBe(`'it'\\''s $(rm -rf /)'`);
    expect(remoteCommandLine({}, ['send', 'web', 'echo $((6*7))\n'])).toBe(`vmdesk 'send' 'web' 'echo $((6*7))\n'`);
  });

  it('sets the remote library with env, and keeps the remote command as the user wrote it', () => {
    expect(remoteCommandLine({ remoteHome: '/srv/vm lib', remoteCommand: '/opt/vmdesk/bin/vmdesk' }, ['stdio'])).toBe(
      `env VMDESK_HOME='/srv/vm lib' /opt/vmdesk/bin/vmdesk 'stdio'`,
    );
  });
});

describe('host entry validation', () => {
  it.each(['-oProxyCommand=touch /tmp/pwned', '-p22', 'lab;rm -rf /', 'a b', "lab'", 'lab\n', ''])('refuses the destination %j', (d) => {
    expect(sshDestinationSchema.safeParse(d).success).toBe(false);
  });

  it.each(['lab', 'me@lab.example', 'me@[fe80::1]', 'ssh://me@lab:2222', 'me@10.0.0.2'])('accepts the destination %j', (d) => {
    expect(sshDestinationSchema.safeParse(d).success).toBe(true);
  });

  it('refuses host names that are options, paths or "local"', () => {
    for (const n of ['-oProxyCommand=x', '../x', 'local', 'a/b', '', 'x'.repeat(64)])
      expect(hostNameSchema.safeParse(n).success).toBe(false);
    expect(hostNameSchema.safeParse('lab-2.home').success).toBe(true);
  });

  it('refuses remote libraries a quote could escape from', () => {
    expect(remoteHomeSchema.safeParse("/srv/it's").success).toBe(false);
    expect(remoteHomeSchema.safeParse('relative').success).toBe(false);
    expect(remoteHomeSchema.safeParse('/srv/vm lib').success).toBe(true);
  });

  it('refuses unknown fields and malformed fingerprints', () => {
    expect(addHostInputSchema.safeParse({ ...entry, proxyCommand: 'x' }).success).toBe(false);
    expect(addHostInputSchema.safeParse({ ...entry, acceptHostKey: 'SHA256:short' }).success).toBe(false);
  });
});
