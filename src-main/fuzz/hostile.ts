/**
 * Hostile values for the fuzz tests: the strings, numbers and paths a careless or malicious caller
 * hands a VM manager. Special files are named here; the ones a test must make (a FIFO, a folder, an
 * unreadable file) are made by `hostileFiles` in a folder of the test's own.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';

/** Files no VM manager should read as an image, a descriptor or an ISO. */
export const SPECIAL_PATHS = ['/proc/self/mem', '/dev/urandom', '/dev/zero', '/dev/null', '/dev/full', '/proc/self/fd/0', '/'] as const;

export const HOSTILE_NUMBERS = [
  '0',
  '-1',
  '-0',
  '1e309',
  '9007199254740993',
  '18446744073709551616',
  '99999999999999999999999999',
  'NaN',
  'Infinity',
  '-Infinity',
  '0x10',
  '1_000',
  '1.5',
  ' 7 ',
  '+3',
  '٣',
  '１２',
] as const;

export const HOSTILE_STRINGS = [
  '',
  ' ',
  '-',
  '--',
  '-h',
  '--help',
  '--version',
  '--json',
  '..',
  '../../etc/passwd',
  '../x',
  './x',
  'a/b',
  'a,b',
  'file=/etc/passwd,format=raw',
  'json:{"driver":"file","filename":"/etc/shadow"}',
  'a\nb',
  'a\r\nb',
  'tab\there',
  '\u0000',
  '\u001b[2J\u001b[31mred',
  '\u009b31m',
  '\u202eevil',
  'smile😀',
  'e\u0301',
  '日本語の名前',
  '"quoted"',
  "it's",
  '$(touch /tmp/pwned)',
  '`id`',
  '%s%n%x',
  '{{constructor.constructor}}',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'x'.repeat(300),
  'x'.repeat(5000),
  '\ud800',
  ...HOSTILE_NUMBERS,
] as const;

/** One hostile string, a random one, or a hostile one glued to a random one. */
export function hostileString(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 80 }) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...HOSTILE_STRINGS), fc.string({ maxLength: 8 })).map(([a, b]) => a + b) },
  );
}

export interface HostileFiles {
  dir: string;
  fifo: string;
  folder: string;
  unreadable: string;
  empty: string;
  garbage: string;
  missing: string;
  /** Every hostile path: these files, the special files and a few relative tricks. */
  all: string[];
}

/** A folder of hostile files: a FIFO (a reader would block on it), a folder, an unreadable and an empty file. */
export function hostileFiles(dir: string): HostileFiles {
  fs.mkdirSync(dir, { recursive: true });
  const fifo = path.join(dir, 'pipe.iso');
  execFileSync('mkfifo', [fifo]);
  const folder = path.join(dir, 'folder.ova');
  fs.mkdirSync(folder);
  const unreadable = path.join(dir, 'unreadable.ova');
  fs.writeFileSync(unreadable, 'secret');
  fs.chmodSync(unreadable, 0);
  const empty = path.join(dir, 'empty.ovf');
  fs.writeFileSync(empty, '');
  const garbage = path.join(dir, 'garbage.vmdk');
  fs.writeFileSync(garbage, Buffer.from('KDMV\u0001\u0000\u0000\u0000'.repeat(64), 'latin1'));
  const missing = path.join(dir, 'missing.qcow2');
  return {
    dir,
    fifo,
    folder,
    unreadable,
    empty,
    garbage,
    missing,
    all: [...SPECIAL_PATHS, fifo, folder, unreadable, empty, garbage, missing, `${dir}/../${path.basename(dir)}/missing,format=raw`],
  };
}
