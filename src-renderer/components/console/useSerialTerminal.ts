/**
 * An xterm.js terminal bound to the serial stream of one machine: raw bytes in (the server sends the
 * scrollback first, then live output), UTF-8 keystrokes out. The stream is (re)opened whenever the
 * machine is live and no stream is open; each reconnection starts from a clean terminal, because the
 * server replays its scrollback. A remote machine's stream that breaks with its SSH link is reopened
 * by itself, with backoff, while the machine is live.
 */
import { onBeforeUnmount, onMounted, ref, toValue, watch, watchEffect, type MaybeRefOrGetter, type Ref } from 'vue';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import '@xterm/xterm/css/xterm.css';
import { consoleUrl } from '../../api/client';
import { isLocalHost, type MachineRef } from '../../lib/hosts';
import { closeReasonText, createRetry, isLinkLoss, type StreamPhase } from './stream-phase';
import { t as translate } from '../../i18n';

export interface SerialTerminal {
  phase: Ref<StreamPhase>;
  /** Why the last stream ended, or null while none has ended. */
  closeReason: Ref<string | null>;
  reconnect: () => void;
  copySelection: () => Promise<boolean>;
  pasteClipboard: () => Promise<void>;
  focus: () => void;
}

const SCROLLBACK_LINES = 10_000;

function createTerminal(): Terminal {
  return new Terminal({
    scrollback: SCROLLBACK_LINES,
    // A steady cursor, as VS Code's terminal has by default: xterm.js blinks it with a CSS animation that
    // makes Chromium recalculate styles every frame (~60 a second, idle or not), and the echo of a key
    // then waits behind those frames (key → echo drawn, bench/ui.mjs: see bench/RESULTS.md).
    cursorBlink: false,
    fontFamily: "'DejaVu Sans Mono', 'Liberation Mono', Menlo, Consolas, monospace",
    fontSize: 14,
    theme: { background: '#1e1e1e', foreground: '#d4d4d4' },
  });
}

export function useSerialTerminal(host: Ref<HTMLElement | null>, target: MaybeRefOrGetter<MachineRef>, live: Ref<boolean>): SerialTerminal {
  const phase = ref<StreamPhase>('idle');
  const closeReason = ref<string | null>(null);
  const encoder = new TextEncoder();
  let term: Terminal | null = null;
  let fit: FitAddon | null = null;
  let socket: WebSocket | null = null;
  let resizeObserver: ResizeObserver | null = null;
  let disposed = false;
  let attempt = 0;
  const retry = createRetry(() => void connect());

  const send = (bytes: Uint8Array<ArrayBuffer>): void => {
    if (socket?.readyState === WebSocket.OPEN) socket.send(bytes);
  };

  const connect = async (): Promise<void> => {
    const mine = ++attempt;
    retry.cancel();
    socket?.close(1000, 'reconnecting');
    socket = null;
    phase.value = 'connecting';
    const { host: machineHost, uuid } = toValue(target);
    let url: string;
    try {
      url = await consoleUrl('serial', uuid, machineHost);
    } catch (err) {
      if (mine !== attempt) return;
      phase.value = 'closed';
      closeReason.value = err instanceof Error ? err.message : String(err);
      return;
    }
    if (disposed || mine !== attempt) return;
    term?.reset();
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    socket = ws;
    ws.onopen = () => {
      if (socket !== ws) return;
      phase.value = 'open';
      closeReason.value = null;
      retry.reset();
    };
    ws.onmessage = (ev: MessageEvent<ArrayBuffer | string>) => {
      if (socket !== ws) return;
      term?.write(typeof ev.data === 'string' ? ev.data : new Uint8Array(ev.data));
    };
    ws.onclose = (ev: CloseEvent) => {
      if (socket !== ws) return;
      socket = null;
      phase.value = 'closed';
      closeReason.value = closeReasonText(ev.code, ev.reason);
      // The SSH link of a remote host dropped: reopened by itself while the machine is live.
      if (!disposed && !isLocalHost(machineHost) && isLinkLoss(ev.code) && live.value) retry.schedule();
    };
  };

  const reconnect = (): void => {
    retry.reset();
    void connect();
  };

  const copySelection = async (): Promise<boolean> => {
    const text = term?.getSelection() ?? '';
    if (!text) return false;
    await navigator.clipboard.writeText(text);
    return true;
  };

  const pasteClipboard = async (): Promise<void> => {
    const text = await navigator.clipboard.readText();
    if (text) term?.paste(text);
    term?.focus();
  };

  const refit = (): void => {
    const el = host.value;
    // A hidden tab has no size: fitting it would shrink the terminal to nothing.
    if (!fit || !el || el.clientWidth === 0 || el.clientHeight === 0) return;
    fit.fit();
  };

  /** Ctrl+Shift+C copies; Ctrl+Shift+V is left to the browser, whose paste event xterm handles. */
  const onKey = (ev: KeyboardEvent): boolean => {
    if (!ev.ctrlKey || !ev.shiftKey || ev.altKey || ev.metaKey) return true;
    if (ev.code === 'KeyC') {
      if (ev.type === 'keydown') {
        ev.preventDefault();
        void copySelection().catch(() => undefined);
      }
      return false;
    }
    return ev.code !== 'KeyV';
  };

  onMounted(() => {
    const el = host.value;
    if (!el) return;
    const t = createTerminal();
    const f = new FitAddon();
    t.loadAddon(f);
    t.open(el);
    // Its name follows a switch of language.
    watchEffect(() => t.textarea?.setAttribute('aria-label', translate('console.serialInput')));
    t.attachCustomKeyEventHandler(onKey);
    t.onData((data) => send(encoder.encode(data)));
    t.onBinary((data) => send(Uint8Array.from(data, (c) => c.charCodeAt(0) & 0xff)));
    term = t;
    fit = f;
    resizeObserver = new ResizeObserver(refit);
    resizeObserver.observe(el);
    refit();
    watch(
      live,
      (isLive, wasLive) => {
        // A machine that went down and came back has a new stream, even if the old one never said goodbye.
        if (isLive && (wasLive === false || phase.value === 'idle' || phase.value === 'closed')) void connect();
      },
      { immediate: true },
    );
  });

  onBeforeUnmount(() => {
    disposed = true;
    retry.cancel();
    resizeObserver?.disconnect();
    const ws = socket;
    socket = null;
    ws?.close(1000, 'viewer closed');
    term?.dispose();
    term = null;
  });

  return { phase, closeReason, reconnect, copySelection, pasteClipboard, focus: () => term?.focus() };
}
