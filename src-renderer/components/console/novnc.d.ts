/** The part of noVNC's RFB client (core/rfb.js, no types shipped) that VMDesk uses; see its docs/API.md. */
declare module '@novnc/novnc' {
  export interface RfbOptions {
    shared?: boolean;
    credentials?: { username?: string; password?: string; target?: string };
    wsProtocols?: string[];
  }

  export interface RfbEventDetails {
    connect: undefined;
    disconnect: { clean: boolean };
    securityfailure: { status: number; reason?: string };
    desktopname: { name: string };
  }

  export default class RFB {
    constructor(target: HTMLElement, urlOrChannel: string | WebSocket, options?: RfbOptions);
    scaleViewport: boolean;
    resizeSession: boolean;
    clipViewport: boolean;
    focusOnClick: boolean;
    viewOnly: boolean;
    background: string;
    disconnect(): void;
    focus(options?: FocusOptions): void;
    blur(): void;
    sendCtrlAltDel(): void;
    addEventListener<K extends keyof RfbEventDetails>(type: K, listener: (event: CustomEvent<RfbEventDetails[K]>) => void): void;
    removeEventListener<K extends keyof RfbEventDetails>(type: K, listener: (event: CustomEvent<RfbEventDetails[K]>) => void): void;
  }
}
