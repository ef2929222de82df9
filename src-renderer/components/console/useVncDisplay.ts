/**
 * A noVNC client bound to the VNC stream of one machine, scaled to its container. An RFB object
 * is good for one connection: each (re)connection makes a new one, whenever the machine is live and
 * no display is connected.
 */
import { onBeforeUnmount, onMounted, ref, toValue, watch, type MaybeRefOrGetter, type Ref } from 'vue';
import RFB from '@novnc/novnc';
import { streamUrl } from '../../api/client';
import type { StreamPhase } from './stream-phase';

export interface VncDisplay {
  phase: Ref<StreamPhase>;
  /** Why the last connection ended or failed, or null. */
  closeReason: Ref<string | null>;
  reconnect: () => void;
  sendCtrlAltDel: () => void;
  focus: () => void;
}

export function useVncDisplay(screen: Ref<HTMLElement | null>, uuid: MaybeRefOrGetter<string>, live: Ref<boolean>): VncDisplay {
  const phase = ref<StreamPhase>('idle');
  const closeReason = ref<string | null>(null);
  let rfb: RFB | null = null;
  let attempt = 0;
  let disposed = false;

  const drop = (): void => {
    const old = rfb;
    rfb = null;
    old?.disconnect();
  };

  const connect = async (): Promise<void> => {
    const mine = ++attempt;
    drop();
    phase.value = 'connecting';
    closeReason.value = null;
    let url: string;
    try {
      url = await streamUrl('vnc', toValue(uuid));
    } catch (err) {
      if (mine !== attempt) return;
      phase.value = 'closed';
      closeReason.value = err instanceof Error ? err.message : String(err);
      return;
    }
    const target = screen.value;
    if (disposed || mine !== attempt || !target) return;
    const client = new RFB(target, url, { wsProtocols: ['binary'], shared: true });
    client.scaleViewport = true;
    client.resizeSession = false;
    client.focusOnClick = true;
    client.background = '#000';
    client.addEventListener('connect', () => {
      if (rfb !== client) return;
      phase.value = 'open';
      closeReason.value = null;
    });
    client.addEventListener('securityfailure', (ev) => {
      if (rfb !== client) return;
      closeReason.value = `Security negotiation failed: ${ev.detail.reason ?? `status ${ev.detail.status}`}`;
    });
    client.addEventListener('disconnect', (ev) => {
      if (rfb !== client) return;
      rfb = null;
      phase.value = 'closed';
      closeReason.value ??= ev.detail.clean ? 'The display connection was closed' : 'The display connection was lost';
    });
    rfb = client;
  };

  onMounted(() => {
    watch(
      live,
      (isLive, wasLive) => {
        if (isLive && (wasLive === false || phase.value === 'idle' || phase.value === 'closed')) void connect();
      },
      { immediate: true },
    );
  });

  onBeforeUnmount(() => {
    disposed = true;
    drop();
  });

  return {
    phase,
    closeReason,
    reconnect: () => void connect(),
    sendCtrlAltDel: () => rfb?.sendCtrlAltDel(),
    focus: () => rfb?.focus(),
  };
}
