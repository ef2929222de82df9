/**
 * A noVNC client bound to the VNC stream of one machine, scaled to its container. An RFB object
 * is good for one connection: each (re)connection makes a new one, whenever the machine is live and
 * no display is connected. A remote machine's display that breaks with its SSH link is reopened by
 * itself, with backoff, while the machine is live.
 */
import { onBeforeUnmount, onMounted, ref, toValue, watch, type MaybeRefOrGetter, type Ref } from 'vue';
import RFB from '@novnc/novnc';
import { consoleUrl } from '../../api/client';
import { isLocalHost, type MachineRef } from '../../lib/hosts';
import { createRetry, type StreamPhase } from './stream-phase';
import { t } from '../../i18n';

export interface VncDisplay {
  phase: Ref<StreamPhase>;
  /** Why the last connection ended or failed, or null. */
  closeReason: Ref<string | null>;
  reconnect: () => void;
  sendCtrlAltDel: () => void;
  focus: () => void;
}

export function useVncDisplay(screen: Ref<HTMLElement | null>, target: MaybeRefOrGetter<MachineRef>, live: Ref<boolean>): VncDisplay {
  const phase = ref<StreamPhase>('idle');
  const closeReason = ref<string | null>(null);
  let rfb: RFB | null = null;
  let attempt = 0;
  let disposed = false;
  const retry = createRetry(() => void connect());

  const drop = (): void => {
    const old = rfb;
    rfb = null;
    old?.disconnect();
  };

  const connect = async (): Promise<void> => {
    const mine = ++attempt;
    retry.cancel();
    drop();
    phase.value = 'connecting';
    closeReason.value = null;
    const { host, uuid } = toValue(target);
    let url: string;
    try {
      url = await consoleUrl('vnc', uuid, host);
    } catch (err) {
      if (mine !== attempt) return;
      phase.value = 'closed';
      closeReason.value = err instanceof Error ? err.message : String(err);
      return;
    }
    const el = screen.value;
    if (disposed || mine !== attempt || !el) return;
    const client = new RFB(el, url, { wsProtocols: ['binary'], shared: true });
    client.scaleViewport = true;
    client.resizeSession = false;
    client.focusOnClick = true;
    client.background = '#000';
    client.addEventListener('connect', () => {
      if (rfb !== client) return;
      phase.value = 'open';
      closeReason.value = null;
      retry.reset();
    });
    client.addEventListener('securityfailure', (ev) => {
      if (rfb !== client) return;
      closeReason.value = t('console.securityFailed', {
        reason: ev.detail.reason ?? t('console.status', { status: String(ev.detail.status) }),
      });
    });
    client.addEventListener('disconnect', (ev) => {
      if (rfb !== client) return;
      rfb = null;
      phase.value = 'closed';
      closeReason.value ??= ev.detail.clean ? t('console.displayClosed') : t('console.displayLost');
      // noVNC gives no close code: a remote display lost uncleanly is taken for its SSH link dropping.
      if (!disposed && !isLocalHost(host) && !ev.detail.clean && live.value) retry.schedule();
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
    retry.cancel();
    drop();
  });

  return {
    phase,
    closeReason,
    reconnect: () => {
      retry.reset();
      void connect();
    },
    sendCtrlAltDel: () => rfb?.sendCtrlAltDel(),
    focus: () => rfb?.focus(),
  };
}
