import { describe, expect, it } from 'vitest';
import { chainMessage, untrustedChain } from './backing-chain';

describe('backing chain confirmation', () => {
  const details = { reason: 'untrusted-backing', chain: [{ file: '/vm/base.qcow2', format: 'qcow2' }], untrusted: ['/vm/base.qcow2'] };

  it('recognises only the core refusal of an unconfirmed chain', () => {
    expect(untrustedChain({ details })).toEqual({ chain: details.chain, untrusted: details.untrusted });
    expect(untrustedChain({ details: { reason: 'other' } })).toBeNull();
    expect(untrustedChain({ details: { reason: 'untrusted-backing', chain: 'x' } })).toBeNull();
    expect(untrustedChain(null)).toBeNull();
  });

  it('lists every file of the chain with its format', () => {
    const text = chainMessage('/vm/top.qcow2', { chain: [...details.chain, { file: '/vm/raw.img', format: 'raw' }], untrusted: [] });
    expect(text).toContain('1. /vm/base.qcow2 (qcow2)');
    expect(text).toContain('2. /vm/raw.img (raw)');
    expect(text).toContain('/vm/top.qcow2');
  });
});
