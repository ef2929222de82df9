import { describe, expect, it } from 'vitest';
import { consoleHref, consoleWindowName, parseRoute } from './console-route';

const UUID = '0b6a2f4e-1c3d-4e5f-8a9b-0c1d2e3f4a5b';

describe('console routes', () => {
  it('keeps #/console/<uuid> for a machine of this computer', () => {
    expect(parseRoute(`#/console/${UUID}`)).toEqual({ name: 'console', host: 'local', uuid: UUID });
    expect(consoleHref({ host: 'local', uuid: UUID })).toBe(`#/console/${UUID}`);
  });

  it('carries the host of a remote machine', () => {
    expect(consoleHref({ host: 'lab', uuid: UUID })).toBe(`#/console/lab/${UUID}`);
    expect(parseRoute(`#/console/lab/${UUID}`)).toEqual({ name: 'console', host: 'lab', uuid: UUID });
    expect(parseRoute(`#/console/local/${UUID}`)).toEqual({ name: 'console', host: 'local', uuid: UUID });
  });

  it('round-trips whatever it makes', () => {
    for (const ref of [
      { host: 'local', uuid: UUID },
      { host: 'lab.example-2', uuid: UUID },
      { host: 'x', uuid: 'a name/with?odd#chars' },
    ]) {
      expect(parseRoute(consoleHref(ref))).toEqual({ name: 'console', ...ref });
    }
  });

  it('shows the manager for anything else', () => {
    for (const hash of ['', '#/', '#/console/', '#/console//x', '#/console/a/b/c', '#/settings/x', '#/console/%E0%A4%A']) {
      expect(parseRoute(hash)).toEqual({ name: 'main' });
    }
  });

  it('names one window per machine and host', () => {
    expect(consoleWindowName({ host: 'local', uuid: UUID })).toBe(`vmdesk-console-${UUID}`);
    expect(consoleWindowName({ host: 'lab', uuid: UUID })).not.toBe(consoleWindowName({ host: 'local', uuid: UUID }));
  });
});
