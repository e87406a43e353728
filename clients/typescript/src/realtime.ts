// HapaRealtime: the callback API of the console's browser module (docs/protocol.md,
// "Browser client"), kept as a thin layer over HapaClient so that there is one client
// implementation. One socket, no automatic reconnect: onClose tells the page.

import { HapaClient } from "./client.js";
import type { CompletionParams, GenerationParams } from "./client.js";
import type { EditorInfo, Profile, ServerFrame, SessionClosingFrame, SessionCreatedFrame, SessionInfo } from "./protocol.js";
import type { HapaStream } from "./stream.js";
import type { WebSocketConstructor } from "./transport.js";

export interface HapaRealtimeOptions {
  url?: string;
  key?: string;
  onEvent?: (frame: ServerFrame) => void;
  onClose?: (e: { code: number; reason: string; closing: SessionClosingFrame | null }) => void;
  WebSocket?: WebSocketConstructor;
}

export class HapaRealtime {
  readonly url: string;
  readonly key: string;
  onEvent: HapaRealtimeOptions["onEvent"] | null;
  onClose: HapaRealtimeOptions["onClose"] | null;
  /** The session.created frame. */
  session: SessionCreatedFrame | null = null;
  /** The last session.closing frame. */
  closing: SessionClosingFrame | null = null;
  /** The client underneath. */
  readonly client: HapaClient;

  constructor({ url, key, onEvent, onClose, WebSocket }: HapaRealtimeOptions = {}) {
    this.client = new HapaClient({ url, apiKey: key || undefined, reconnect: false, WebSocket });
    this.url = this.client.url;
    this.key = key || "";
    this.onEvent = onEvent ?? null;
    this.onClose = onClose ?? null;
    this.client.on("frame", (f) => {
      if (f.type === "session.closing") this.closing = f;
      this.onEvent?.(f);
    });
    this.client.on("disconnect", (d) => this.onClose?.({ code: d.code, reason: d.reason, closing: d.closing }));
  }

  /** connect resolves with the session.created frame. */
  async connect(): Promise<SessionCreatedFrame> {
    this.session = await this.client.connect();
    return this.session;
  }

  update(u: { profile?: Profile; editor?: EditorInfo; workspace?: string } = {}): Promise<SessionInfo> {
    return this.client.update(u);
  }

  ping(): Promise<number> { return this.client.ping(); }

  generate(params: GenerationParams): HapaStream { return this.facade(this.client.generate(params)); }

  complete(params: CompletionParams): HapaStream { return this.facade(this.client.complete(params)); }

  cancel(id: string): void { this.client.cancel(id); }

  close(): void { this.client.close(1000); }

  private facade(s: HapaStream): HapaStream {
    s.yieldErrors = true;
    return s;
  }
}
