/** `vmdesk console NAME`: an interactive serial console; Ctrl-] detaches, as in virsh and telnet. */
import net from 'node:net';
import { t } from '../i18n/i18n.js';

const DETACH = 0x1d;

export function attachConsole(socketPath: string, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    const stdin = process.stdin;
    const restore = (): void => {
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onInput);
    };
    const onInput = (chunk: Buffer): void => {
      const detachAt = chunk.indexOf(DETACH);
      if (detachAt >= 0) {
        if (detachAt > 0) socket.write(chunk.subarray(0, detachAt));
        socket.end();
        return;
      }
      socket.write(chunk);
    };
    socket.once('connect', () => {
      process.stderr.write(`${t('cli.console.connected', { name })}\r\n`);
      if (stdin.isTTY) stdin.setRawMode(true);
      stdin.on('data', onInput);
      stdin.on('end', () => socket.end());
      stdin.resume();
    });
    socket.on('data', (chunk: Buffer) => process.stdout.write(chunk));
    socket.on('error', (err) => {
      restore();
      reject(err);
    });
    socket.on('close', () => {
      restore();
      process.stderr.write(`\r\n${t('cli.console.detached')}\n`);
      resolve();
    });
  });
}
