// HapaClient: one persistent hapa.v1 socket (docs/protocol.md) that carries every
// completion and generation of an editor, reconnects by itself, and moves to a new
// socket when the server announces a restart (session.closing).

import { reconnectDelay, restartDelay, STABLE_AFTER_MS, TOO_MANY_CONNECTIONS_BACKOFF_MS } from "./backoff.js";
import { CLOSE, closeError, HapaError } from "./errors.js";
import type {
  ClientFrame,
  CompletionCreateFrame,
  EditorInfo,
  FeedbackEvent,
  GenerationCreateFrame,
  Profile,
  ServerFrame,
  SessionClosingFrame,
  SessionCreatedFrame,
  SessionInfo,
  SessionUpdateFrame,
  StreamFrame,
} from "./protocol.js";
import { HapaStream, type StreamKind, type StreamOwner } from "./stream.js";
import {
  openSocket,
  resolveWebSocket,
  WS_OPEN,
  type Credentials,
  type SocketLike,
  type WebSocketConstructor,
} from "./transport.js";

/** Where the client stands. */
export type ConnectionState =
  | "idle"          // connect() not called yet
  | "connecting"    // first handshake in progress
  | "open"          // a socket is up and takes new streams
  | "reconnecting"  // the socket went away; waiting to reconnect, or handshaking again
  | "closed"        // close() was called
  | "failed";       // given up: the key is gone (4001, 401), or reconnect is off

export interface HapaClientOptions {
  /** ws(s)://host/api/v1/realtime; in a browser page defaults to this host. */
  url?: string;
  apiKey?: string;
  /** A JWT from POST /api/v1/users/login (Node only: browsers cannot send it). */
  token?: string;
  /** Called before every handshake; wins over apiKey/token (e.g. to refresh a JWT). */
  credentials?: () => Credentials | Promise<Credentials>;
  /** A WebSocket constructor; default: the global one, else the `ws` package. */
  WebSocket?: WebSocketConstructor;
  /** Reconnect after an unexpected close (default true). */
  reconnect?: boolean;
  /** Send a protocol ping after this long without any server frame; 0 turns it off (default 25 s). */
  keepaliveMs?: number;
  /** Close and reconnect when a keepalive ping gets no pong within this (default 10 s). */
  pongTimeoutMs?: number;
  /** Give up a handshake after this long (default 10 s). */
  connectTimeoutMs?: number;
  /** Give up waiting for session.updated / pong after this long (default 10 s). */
  callTimeoutMs?: number;
  /** Session state sent as session.update on every new socket. */
  profile?: Profile;
  editor?: EditorInfo;
  workspace?: string;
  /** Randomness of the backoff jitter (tests). */
  random?: () => number;
}

/** The parameters of completion.create; id is chosen by the client unless given. */
export type CompletionParams = Omit<CompletionCreateFrame, "type" | "id" | "event_id"> & { id?: string };
/** The parameters of generation.create; id is chosen by the client unless given. */
export type GenerationParams = Omit<GenerationCreateFrame, "type" | "id" | "event_id"> & { id?: string };

export interface StreamOptions {
  /** Aborting it cancels the stream. */
  signal?: AbortSignal;
}

/** Counts of accepted telemetry; a refusal comes as the "feedbackError" event. */
export interface FeedbackOptions {
  acceptedChars?: number;
  acceptedLines?: number;
}

export interface DisconnectInfo {
  code: number;
  reason: string;
  /** What the close means (E4007 for a revoked key, `closed` otherwise, …). */
  error: HapaError;
  /** The session.closing frame that preceded it, if any. */
  closing: SessionClosingFrame | null;
}

export interface ClientEvents {
  state: (state: ConnectionState, info: { error?: HapaError; retryInMs?: number }) => void;
  /** A socket is up (its session.created frame). */
  session: (created: SessionCreatedFrame) => void;
  /** The server announced a restart; the client moves to a new socket. */
  closing: (frame: SessionClosingFrame) => void;
  /** A socket ended. */
  disconnect: (info: DisconnectInfo) => void;
  /** Every server frame (after the client handled it). */
  frame: (frame: ServerFrame) => void;
  /** An `error` frame that answers nothing this client is waiting for. */
  error: (error: HapaError) => void;
  /** The server refused a completion.feedback. */
  feedbackError: (info: { completionId: string; event: FeedbackEvent; error: HapaError }) => void;
}

type Listener<K extends keyof ClientEvents> = ClientEvents[K];

interface Call {
  resolve: (f: ServerFrame) => void;
  reject: (e: HapaError) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** One socket and what travels on it. */
class Connection {
  ws: SocketLike | null = null;
  created: SessionCreatedFrame | null = null;
  closing: SessionClosingFrame | null = null;
  refused: HapaError | null = null;
  dead = false;
  openedAt = 0;
  lastFrameAt = 0;
  readonly streams = new Map<string, HapaStream>();
  readonly calls = new Map<string, Call>();
  keepalive: ReturnType<typeof setTimeout> | null = null;
  pongWait: ReturnType<typeof setTimeout> | null = null;

  get open(): boolean {
    return !this.dead && this.created !== null && this.ws !== null && this.ws.readyState === WS_OPEN;
  }

  send(f: ClientFrame): void {
    if (!this.open || !this.ws) throw new HapaError("closed", "socket is not open");
    this.ws.send(JSON.stringify(f));
  }
}

function now(): number {
  const p = (globalThis as { performance?: { now(): number } }).performance;
  return p ? p.now() : Date.now();
}

function unref(t: ReturnType<typeof setTimeout>): ReturnType<typeof setTimeout> {
  (t as { unref?: () => void }).unref?.();
  return t;
}

function defaultURL(): string | undefined {
  const loc = (globalThis as { location?: { protocol: string; host: string } }).location;
  if (!loc) return undefined;
  return `${loc.protocol === "https:" ? "wss" : "ws"}://${loc.host}/api/v1/realtime`;
}

const MAX_QUEUED_FEEDBACK = 100;
const MAX_TRACKED_FEEDBACK = 512;

/**
 * HapaClient multiplexes completion and generation streams over one persistent
 * socket. See clients/typescript/README.md for the API and docs/protocol.md for the
 * protocol.
 */
export class HapaClient implements StreamOwner {
  readonly url: string;
  state: ConnectionState = "idle";
  /** The session.created frame of the current socket. */
  session: SessionCreatedFrame | null = null;
  /** The last session.closing frame. */
  closing: SessionClosingFrame | null = null;
  /** Sockets opened so far (handshakes started). */
  connectionsOpened = 0;

  private opts: HapaClientOptions;
  private ctor: WebSocketConstructor | null = null;
  private conn: Connection | null = null;           // takes new streams
  private draining = new Set<Connection>();          // finishing their streams after session.closing
  private queue: Array<{ s: HapaStream; frame: ClientFrame }> = [];
  private feedbackQueue: ClientFrame[] = [];
  private feedbackSent = new Map<string, { completionId: string; event: FeedbackEvent }>();
  private sessionState: { profile?: Profile; editor?: EditorInfo; workspace?: string } = {};
  private listeners: { [K in keyof ClientEvents]?: Set<Listener<K>> } = {};
  private seq = 0;
  private attempt = 0;
  private lastReconnectAfterMs = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private dialing = false;
  private openWaiters: Array<{ resolve: (s: SessionCreatedFrame) => void; reject: (e: HapaError) => void }> = [];
  private lastError: HapaError | null = null;

  constructor(opts: HapaClientOptions = {}) {
    const url = opts.url ?? defaultURL();
    if (!url) throw new HapaError("connect", "HapaClient: options.url is required outside a browser page", { retryable: false });
    this.url = url;
    this.opts = opts;
    if (opts.profile !== undefined) this.sessionState.profile = opts.profile;
    if (opts.editor !== undefined) this.sessionState.editor = opts.editor;
    if (opts.workspace !== undefined) this.sessionState.workspace = opts.workspace;
  }

  // ---- events ------------------------------------------------------------------

  /** on subscribes to an event and returns the function that unsubscribes. */
  on<K extends keyof ClientEvents>(event: K, fn: Listener<K>): () => void {
    const set = (this.listeners[event] ??= new Set() as never) as Set<Listener<K>>;
    set.add(fn);
    return () => set.delete(fn);
  }

  private emit<K extends keyof ClientEvents>(event: K, ...args: Parameters<Listener<K>>): void {
    const set = this.listeners[event] as Set<(...a: unknown[]) => void> | undefined;
    if (!set) return;
    for (const fn of [...set]) {
      try { fn(...args); } catch { /* a listener's bug must not break the socket */ }
    }
  }

  private setState(s: ConnectionState, info: { error?: HapaError; retryInMs?: number } = {}): void {
    if (info.error) this.lastError = info.error;
    if (this.state === s && info.retryInMs === undefined && !info.error) return;
    this.state = s;
    this.emit("state", s, info);
  }

  // ---- connecting --------------------------------------------------------------

  /**
   * connect opens the socket and resolves with its session.created frame. It rejects
   * when the client gives up (the key is refused, or reconnect is off and the first
   * handshake fails); transient failures are retried with backoff meanwhile.
   */
  connect(): Promise<SessionCreatedFrame> {
    if (this.state === "closed") return Promise.reject(new HapaError("aborted", "the client was closed", { retryable: false }));
    if (this.conn?.open && this.session) return Promise.resolve(this.session);
    if (this.state === "idle" || this.state === "failed") {
      this.attempt = 0;
      this.setState("connecting");
      void this.dial();
    }
    return this.whenOpen();
  }

  /** whenOpen resolves at the next socket that takes streams. */
  private whenOpen(): Promise<SessionCreatedFrame> {
    if (this.conn?.open && this.session) return Promise.resolve(this.session);
    if (this.state === "closed" || this.state === "failed") {
      return Promise.reject(this.lastError ?? new HapaError("aborted", "the client is " + this.state, { retryable: false }));
    }
    return new Promise((resolve, reject) => this.openWaiters.push({ resolve, reject }));
  }

  private async credentials(): Promise<Credentials> {
    if (this.opts.credentials) return await this.opts.credentials();
    return { apiKey: this.opts.apiKey, token: this.opts.token };
  }

  /** setCredentials changes the key or token used from the next handshake on. */
  setCredentials(creds: Credentials): void {
    this.opts = { ...this.opts, apiKey: creds.apiKey, token: creds.token, credentials: undefined };
  }

  private async dial(): Promise<void> {
    if (this.dialing || this.state === "closed") return;
    this.dialing = true;
    const c = new Connection();
    try {
      this.ctor ??= await resolveWebSocket(this.opts.WebSocket);
      const creds = await this.credentials();
      if ((this.state as ConnectionState) === "closed") { this.dialing = false; return; }
      this.connectionsOpened++;
      c.ws = openSocket(this.ctor, this.url, creds, (err) => { c.refused = err; });
    } catch (err) {
      this.dialing = false;
      const e = err instanceof HapaError ? err : new HapaError("connect", String((err as Error)?.message ?? err), { cause: err });
      this.afterClose(c, 0, "", e);
      return;
    }
    const ws = c.ws;
    const timeout = unref(setTimeout(() => {
      if (c.created || c.dead) return;
      c.refused ??= new HapaError("timeout", `no session.created within ${this.opts.connectTimeoutMs ?? 10000} ms`);
      this.kill(c, CLOSE.keepaliveTimeout, "handshake timeout");
    }, this.opts.connectTimeoutMs ?? 10000));
    ws.onmessage = (ev) => {
      if (c.dead || typeof ev.data !== "string") return;
      let f: ServerFrame;
      try { f = JSON.parse(ev.data) as ServerFrame; } catch { return; }
      if (!f || typeof f !== "object" || typeof f.type !== "string") return;
      if (!c.created) {
        clearTimeout(timeout);
        if (f.type !== "session.created") {
          c.refused = new HapaError("protocol", `first frame is ${f.type}, want session.created`);
          this.kill(c, CLOSE.policy, "unexpected first frame");
          return;
        }
        this.dialing = false;
        this.opened(c, f);
      } else {
        this.dispatch(c, f);
      }
      this.emit("frame", f);
    };
    ws.onclose = (ev) => {
      clearTimeout(timeout);
      if (c.dead) return;
      this.afterClose(c, ev.code, ev.reason);
    };
    ws.onerror = () => { /* onclose follows with the code */ };
  }

  private opened(c: Connection, created: SessionCreatedFrame): void {
    c.created = created;
    c.openedAt = now();
    this.conn = c;
    this.session = created;
    this.armKeepalive(c);
    const st = this.sessionState;
    if (st.profile !== undefined || st.editor !== undefined || st.workspace !== undefined) {
      const eid = this.nextID("e");
      // The answer is only awaited by update(); frames are handled in order, so the
      // creates below already see this session state.
      c.send({ type: "session.update", event_id: eid, ...st });
    }
    this.setState("open");
    this.emit("session", created);
    for (const w of this.openWaiters.splice(0)) w.resolve(created);
    this.flush();
  }

  /** flush sends what waited for a socket. */
  private flush(): void {
    const c = this.conn;
    if (!c?.open || c.closing) return;
    for (const { s, frame } of this.queue.splice(0)) this.sendCreate(c, s, frame);
    for (const f of this.feedbackQueue.splice(0)) this.trySend(c, f);
  }

  private trySend(c: Connection, f: ClientFrame): boolean {
    try { c.send(f); return true; } catch { return false; }
  }

  /** kill drops a socket at once (handshake timeout, missing pong): it counts as closed now. */
  private kill(c: Connection, code: number, reason: string): void {
    if (c.dead) return;
    const ws = c.ws as (SocketLike & { terminate?: () => void }) | null;
    try {
      if (ws?.terminate) ws.terminate();
      else ws?.close(code, reason);
    } catch { /* already closing */ }
    this.afterClose(c, code, reason);
  }

  private afterClose(c: Connection, code: number, reason: string, err?: HapaError): void {
    if (c.dead) return;
    c.dead = true;
    this.clearKeepalive(c);
    if (!c.created) this.dialing = false;
    const error = err ?? c.refused ?? closeError(code, reason);
    const closedErr = new HapaError("closed", `socket closed (${code}${reason ? " " + reason : ""})`, { closeCode: code, retryable: true });
    for (const s of c.streams.values()) s.fail(closedErr);
    c.streams.clear();
    for (const call of c.calls.values()) { clearTimeout(call.timer); call.reject(closedErr); }
    c.calls.clear();
    const wasDraining = this.draining.delete(c);
    if (c.created) this.emit("disconnect", { code, reason, error, closing: c.closing });
    if (this.state === "closed") return;
    if (c === this.conn) this.conn = null;
    else if (wasDraining) return; // its successor is open or on its way

    // Decide whether and when to reconnect.
    if (c.created && now() - c.openedAt >= STABLE_AFTER_MS) this.attempt = 0;
    const fatal = isFatal(error);
    if (fatal || this.opts.reconnect === false) {
      this.fail(error);
      return;
    }
    let delay: number;
    if (c.closing || code === CLOSE.restart) {
      delay = restartDelay(c.closing?.reconnect_after_ms ?? this.lastReconnectAfterMs, this.opts.random);
    } else {
      delay = reconnectDelay(this.attempt++, this.lastReconnectAfterMs, this.opts.random);
      if (code === CLOSE.tooManyConnections || error.code === "E4015") delay = Math.max(delay, TOO_MANY_CONNECTIONS_BACKOFF_MS);
      if (error.retryAfterMs) delay = Math.max(delay, error.retryAfterMs);
    }
    this.scheduleDial(delay, error);
  }

  private scheduleDial(delay: number, error?: HapaError): void {
    if (this.retryTimer || this.dialing || this.state === "closed") return;
    this.setState("reconnecting", { error, retryInMs: delay });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.dial();
    }, delay);
  }

  private fail(error: HapaError): void {
    this.setState("failed", { error });
    for (const w of this.openWaiters.splice(0)) w.reject(error);
    for (const { s } of this.queue.splice(0)) s.fail(error);
    this.feedbackQueue = [];
  }

  // ---- keepalive ---------------------------------------------------------------

  /**
   * armKeepalive makes sure a timer checks the socket keepaliveMs after its last
   * frame. One timer per socket, re-armed for the remainder when frames came
   * meanwhile (not one timer per frame).
   */
  private armKeepalive(c: Connection): void {
    const every = this.opts.keepaliveMs ?? 25000;
    if (every <= 0 || c.dead) return;
    c.lastFrameAt = now();
    if (c.keepalive || c.pongWait) return;
    const check = (delay: number) => unref(setTimeout(() => {
      c.keepalive = null;
      if (!c.open) return;
      const idle = now() - c.lastFrameAt;
      if (idle < every) { c.keepalive = check(every - idle); return; }
      const eid = this.nextID("k");
      if (!this.trySend(c, { type: "ping", event_id: eid })) return;
      c.pongWait = unref(setTimeout(() => {
        c.pongWait = null;
        this.kill(c, CLOSE.keepaliveTimeout, "keepalive timeout");
      }, this.opts.pongTimeoutMs ?? 10000));
    }, delay));
    c.keepalive = check(every);
  }

  private clearKeepalive(c: Connection): void {
    if (c.keepalive) clearTimeout(c.keepalive);
    if (c.pongWait) clearTimeout(c.pongWait);
    c.keepalive = c.pongWait = null;
  }

  // ---- incoming frames ---------------------------------------------------------

  private dispatch(c: Connection, f: ServerFrame): void {
    // Any frame proves the socket alive.
    if (c.pongWait) { clearTimeout(c.pongWait); c.pongWait = null; }
    this.armKeepalive(c);
    switch (f.type) {
      case "session.closing":
        this.onClosing(c, f);
        return;
      case "stream.started":
      case "stream.delta":
      case "stream.done":
      case "stream.error": {
        const s = c.streams.get(f.id);
        if (!s) return;
        if (f.type === "stream.done" || f.type === "stream.error") c.streams.delete(f.id);
        s.frame(f as StreamFrame, now());
        return;
      }
    }
    const eid = (f as { event_id?: string }).event_id;
    if (eid) {
      const call = c.calls.get(eid);
      if (call) {
        c.calls.delete(eid);
        clearTimeout(call.timer);
        if (f.type === "error") call.reject(HapaError.fromWire(f.error));
        else call.resolve(f);
        return;
      }
      if (f.type === "error") {
        const fb = this.feedbackSent.get(eid);
        if (fb) {
          this.feedbackSent.delete(eid);
          this.emit("feedbackError", { ...fb, error: HapaError.fromWire(f.error) });
          return;
        }
        // A create refused with an `error` frame (E4012 id in flight, E4001…): its
        // event_id is "s" + the stream id.
        if (eid.startsWith("s")) {
          const s = c.streams.get(eid.slice(1));
          if (s) {
            c.streams.delete(s.id);
            s.fail(HapaError.fromWire(f.error));
            return;
          }
        }
      }
    }
    if (f.type === "error") this.emit("error", HapaError.fromWire(f.error));
  }

  private onClosing(c: Connection, f: SessionClosingFrame): void {
    c.closing = f;
    this.closing = f;
    this.lastReconnectAfterMs = f.reconnect_after_ms || 0;
    this.emit("closing", f);
    if (c !== this.conn) return;
    // The old socket finishes its streams; new ones wait for the next socket.
    this.draining.add(c);
    this.conn = null;
    this.scheduleDial(restartDelay(f.reconnect_after_ms, this.opts.random));
  }

  // ---- outgoing ----------------------------------------------------------------

  private nextID(prefix: string): string {
    return prefix + (++this.seq).toString(36);
  }

  private call(frame: ClientFrame & { event_id: string }): Promise<ServerFrame> {
    const c = this.conn;
    if (!c?.open) return Promise.reject(new HapaError("closed", "socket is not open"));
    return new Promise((resolve, reject) => {
      const ms = this.opts.callTimeoutMs ?? 10000;
      const timer = unref(setTimeout(() => {
        c.calls.delete(frame.event_id);
        reject(new HapaError("timeout", `no answer to ${frame.type} within ${ms} ms`));
      }, ms));
      c.calls.set(frame.event_id, { resolve, reject, timer });
      try { c.send(frame); } catch (e) { clearTimeout(timer); c.calls.delete(frame.event_id); reject(e as HapaError); }
    });
  }

  /**
   * update changes the session (profile, editor, workspace; omitted fields keep their
   * value) and resolves with the session object. It is sent again on every new
   * socket. While disconnected it waits for the next socket.
   */
  async update(u: { profile?: Profile; editor?: EditorInfo; workspace?: string }): Promise<SessionInfo> {
    const msg: SessionUpdateFrame & { event_id: string } = { type: "session.update", event_id: this.nextID("e") };
    if (u.profile !== undefined) msg.profile = this.sessionState.profile = u.profile;
    if (u.editor !== undefined) msg.editor = this.sessionState.editor = u.editor;
    if (u.workspace !== undefined) msg.workspace = this.sessionState.workspace = u.workspace;
    if (!this.conn?.open) await (this.state === "idle" ? this.connect() : this.whenOpen());
    const f = await this.call(msg);
    return (f as { session: SessionInfo }).session;
  }

  /** ping measures the protocol-level round trip in ms. */
  async ping(): Promise<number> {
    const t0 = now();
    await this.call({ type: "ping", event_id: this.nextID("e") });
    return now() - t0;
  }

  /** complete starts an inline completion (fill in the middle). */
  complete(params: CompletionParams, opts: StreamOptions = {}): HapaStream {
    return this.create("completion", "completion.create", params, opts);
  }

  /** generate starts a generation (explain, fix, write tests, …). */
  generate(params: GenerationParams, opts: StreamOptions = {}): HapaStream {
    return this.create("generation", "generation.create", params, opts);
  }

  private create(kind: StreamKind, type: "completion.create" | "generation.create",
    params: CompletionParams | GenerationParams, opts: StreamOptions): HapaStream {
    const id = params.id || this.nextID(kind === "completion" ? "c" : "g");
    const s = new HapaStream(this, id, kind);
    const frame = { ...params, type, id, event_id: "s" + id } as ClientFrame;
    for (const [k, v] of Object.entries(frame)) if (v === undefined) delete (frame as unknown as Record<string, unknown>)[k];
    if (opts.signal) {
      if (opts.signal.aborted) { s.endLocally(); return s; }
      opts.signal.addEventListener("abort", () => s.cancel(), { once: true });
    }
    if (this.state === "closed" || this.state === "failed") {
      s.fail(this.lastError ?? new HapaError("closed", "the client is " + this.state, { retryable: false }));
      return s;
    }
    const c = this.conn;
    if (c?.open && !c.closing) this.sendCreate(c, s, frame);
    else {
      this.queue.push({ s, frame });
      if (this.state === "idle") void this.connect().catch(() => { /* the stream fails with the error */ });
    }
    return s;
  }

  private sendCreate(c: Connection, s: HapaStream, frame: ClientFrame): void {
    if (s.ended) return;
    if (c.streams.has(s.id)) {
      s.fail(new HapaError("E4012", `stream id ${s.id} is in flight`, { retryable: false }));
      return;
    }
    c.streams.set(s.id, s);
    (s as unknown as { conn: Connection }).conn = c;
    s.sentAt = now();
    try { c.send(frame); } catch (e) {
      c.streams.delete(s.id);
      s.fail(e instanceof HapaError ? e : new HapaError("closed", String(e)));
    }
  }

  /** @internal StreamOwner: cancel a stream wherever it is. */
  cancelStream(s: HapaStream): void {
    const i = this.queue.findIndex((q) => q.s === s);
    if (i >= 0) {
      this.queue.splice(i, 1);
      s.endLocally();
      return;
    }
    const c = (s as unknown as { conn?: Connection }).conn;
    if (c?.open) this.trySend(c, { type: "stream.cancel", id: s.id });
  }

  /** cancel cancels the stream with this id; it still ends with stream.done (cancelled). */
  cancel(id: string): void {
    for (const c of [this.conn, ...this.draining]) {
      const s = c?.streams.get(id);
      if (s) { this.cancelStream(s); return; }
    }
    const q = this.queue.find((x) => x.s.id === id);
    if (q) this.cancelStream(q.s);
    else if (this.conn?.open) this.trySend(this.conn, { type: "stream.cancel", id });
  }

  /**
   * feedback reports what the user did with a shown completion (acceptance
   * telemetry): `completionId` is the stream's completionId. Fire and forget: no
   * answer on success; a refusal arrives as the "feedbackError" event. While
   * disconnected, up to 100 reports wait for the next socket.
   */
  feedback(completionId: string, event: FeedbackEvent, opts: FeedbackOptions = {}): void {
    if (!completionId) return;
    const eid = this.nextID("f");
    const f: ClientFrame = { type: "completion.feedback", event_id: eid, completion_id: completionId, event };
    if (opts.acceptedChars !== undefined) f.accepted_chars = opts.acceptedChars;
    if (opts.acceptedLines !== undefined) f.accepted_lines = opts.acceptedLines;
    this.feedbackSent.set(eid, { completionId, event });
    if (this.feedbackSent.size > MAX_TRACKED_FEEDBACK) {
      this.feedbackSent.delete(this.feedbackSent.keys().next().value as string);
    }
    const c = this.conn?.open ? this.conn : [...this.draining].find((d) => d.open);
    if (c && this.trySend(c, f)) return;
    if (this.state === "closed" || this.state === "failed") return;
    this.feedbackQueue.push(f);
    if (this.feedbackQueue.length > MAX_QUEUED_FEEDBACK) this.feedbackQueue.shift();
  }

  /** Streams in flight on any socket. */
  get inFlight(): number {
    let n = this.queue.length;
    for (const c of [this.conn, ...this.draining]) n += c?.streams.size ?? 0;
    return n;
  }

  /** close closes every socket (1000, or the code given) and stops reconnecting. */
  close(code: number = CLOSE.normal, reason = ""): void {
    if (this.state === "closed") return;
    this.setState("closed");
    if (this.retryTimer) { clearTimeout(this.retryTimer); this.retryTimer = null; }
    const err = new HapaError("aborted", "the client was closed", { retryable: false });
    for (const w of this.openWaiters.splice(0)) w.reject(err);
    for (const { s } of this.queue.splice(0)) s.fail(err);
    for (const c of [this.conn, ...this.draining]) {
      if (!c) continue;
      try { c.ws?.close(code, reason); } catch { /* already closed */ }
      this.afterClose(c, code, reason);
    }
    this.conn = null;
    this.draining.clear();
  }
}

/** isFatal tells errors after which reconnecting with the same credentials is pointless. */
function isFatal(e: HapaError): boolean {
  return e.closeCode === CLOSE.keyGone || ["E4003", "E4005", "E4006", "E4007", "E4013"].includes(String(e.code)) ||
    (e.code === "connect" && e.retryable === false);
}
