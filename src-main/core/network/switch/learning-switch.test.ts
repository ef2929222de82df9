import { describe, expect, it } from 'vitest';
import { LearningSwitch } from './learning-switch.js';
import { BROADCAST, ethernet } from './testing.js';

const A = '52:54:00:00:00:0a';
const B = '52:54:00:00:00:0b';
const C = '52:54:00:00:00:0c';

function threePorts(now = (): number => 0): LearningSwitch<string> {
  const sw = new LearningSwitch<string>(now, 1000);
  for (const p of ['p1', 'p2', 'p3']) sw.addPort(p);
  return sw;
}

describe('learning switch', () => {
  it('floods unknown destinations and broadcast to every other port', () => {
    const sw = threePorts();
    expect(sw.receive('p1', ethernet(B, A, 'x'))).toEqual(['p2', 'p3']);
    expect(sw.receive('p2', ethernet(BROADCAST, B, 'x'))).toEqual(['p1', 'p3']);
    expect(sw.receive('p2', ethernet('01:00:5e:00:00:01', B, 'x'))).toEqual(['p1', 'p3']);
  });

  it('sends unicast to the learned port only, never back to the sender', () => {
    const sw = threePorts();
    sw.receive('p1', ethernet(BROADCAST, A, 'hello'));
    expect(sw.lookup(A)).toBe('p1');
    expect(sw.receive('p2', ethernet(A, B, 'x'))).toEqual(['p1']);
    expect(sw.receive('p1', ethernet(B, A, 'x'))).toEqual(['p2']);
    // A destination on the sender's own port goes nowhere.
    sw.receive('p3', ethernet(BROADCAST, C, 'x'));
    expect(sw.receive('p3', ethernet(C, '52:54:00:00:00:0d', 'x'))).toEqual([]);
  });

  it('follows a MAC that moves, forgets it with its port and after ageing', () => {
    let t = 0;
    const sw = threePorts(() => t);
    sw.receive('p1', ethernet(BROADCAST, A, 'x'));
    sw.receive('p3', ethernet(BROADCAST, A, 'x'));
    expect(sw.receive('p2', ethernet(A, B, 'x'))).toEqual(['p3']);
    sw.removePort('p3');
    expect(sw.lookup(A)).toBeUndefined();
    expect(sw.receive('p2', ethernet(A, B, 'x'))).toEqual(['p1']);
    sw.receive('p1', ethernet(BROADCAST, A, 'x'));
    t = 2000;
    expect(sw.receive('p2', ethernet(A, B, 'x'))).toEqual(['p1']);
  });

  it('drops runt frames and frames from unknown ports, and never learns a multicast source', () => {
    const sw = threePorts();
    expect(sw.receive('p1', Buffer.alloc(10))).toEqual([]);
    expect(sw.receive('nope', ethernet(BROADCAST, A, 'x'))).toEqual([]);
    sw.receive('p1', ethernet(BROADCAST, '01:00:00:00:00:01', 'x'));
    expect(sw.lookup('01:00:00:00:00:01')).toBeUndefined();
  });
});
