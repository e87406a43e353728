// hapa-realtime.js — browser client of HAPA's WebSocket protocol hapa.v1
// (docs/protocol.md). GENERATED from clients/typescript/src by `make clients`
// (clients/typescript/scripts/build-browser.mjs): do not edit; change the TypeScript.
//
//   import { HapaClient, HapaRealtime, HapaError, reconnectDelay } from "/static/js/hapa-realtime.js";
//
// HapaClient is the full client (reconnects, keepalive, session.closing, feedback;
// clients/typescript/README.md). HapaRealtime is the console's callback API on top of
// it (docs/protocol.md, "Browser client"): one socket, no reconnect, onClose tells.
// src/protocol.ts
var PROTOCOL = "hapa.v1";
var AUTH_SUBPROTOCOL_PREFIX = "hapa.auth.";
var CLIENT_FIELDS = {
  "session.update": ["profile", "editor", "workspace"],
  "completion.create": ["id", "prefix", "suffix", "language", "file_path", "context_snippets", "max_tokens", "temperature", "stop", "replace"],
  "generation.create": ["id", "prompt", "model_type", "context", "language", "file_path", "context_snippets", "max_tokens", "temperature", "top_p", "profile"],
  "stream.cancel": ["id"],
  ping: [],
  "completion.feedback": ["completion_id", "event", "accepted_chars", "accepted_lines"]
};
var SERVER_FIELDS = {
  "session.created": ["session_id", "protocol", "server_version", "limits"],
  "session.updated": ["event_id", "session"],
  "stream.started": ["id", "kind", "model", "cached", "coalesced", "completion_id"],
  "stream.delta": ["id", "seq", "text"],
  "stream.done": ["id", "finish_reason", "usage", "ttft_ms", "latency_ms", "cached", "completion_id"],
  "stream.error": ["id", "error", "usage"],
  error: ["event_id", "error"],
  pong: ["event_id"],
  "session.closing": ["reason", "reconnect_after_ms"]
};
var PENDING_IN_DOC = [];

// src/errors.ts
var CATALOGUE = {
  E4001: { status: 400, message: "Invalid input format (bad JSON, wrong type)", retryable: false },
  E4002: { status: 400, message: "Missing required field", retryable: false },
  E4003: { status: 401, message: "Invalid or missing API key", retryable: false },
  E4004: { status: 429, message: "Rate limit exceeded", retryable: true },
  E4005: { status: 403, message: "Permission denied (scope)", retryable: false },
  E4006: { status: 401, message: "API key expired", retryable: false },
  E4007: { status: 401, message: "API key revoked", retryable: false },
  E4008: { status: 422, message: "Value out of range", retryable: false },
  E4009: { status: 422, message: "Unsupported language", retryable: false },
  E4010: { status: 413, message: "Payload too large", retryable: false },
  E4011: { status: 404, message: "Not found", retryable: false },
  E4012: { status: 409, message: "Conflict", retryable: false },
  E4013: { status: 403, message: "Origin not allowed", retryable: false },
  E4014: { status: 429, message: "Too many concurrent streams", retryable: true },
  E4015: { status: 429, message: "Too many connections for this key", retryable: true },
  E4016: { status: 429, message: "Token quota exceeded", retryable: true },
  E5001: { status: 504, message: "AI model timeout", retryable: true },
  E5002: { status: 503, message: "Cache service error (bypassed; alerts only)", retryable: true },
  E5003: { status: 503, message: "Database error", retryable: true },
  E5004: { status: 500, message: "Internal server error", retryable: false },
  E5005: { status: 503, message: "AI model unavailable (no healthy replica, or no engine)", retryable: true },
  E5006: { status: 502, message: "AI model returned an error", retryable: true }
};
var CLIENT_ERROR_CODES = ["closed", "timeout", "connect", "protocol", "aborted"];
function isCatalogueCode(code) {
  return Object.prototype.hasOwnProperty.call(CATALOGUE, code);
}
var HapaError = class _HapaError extends Error {
  code;
  retryable;
  retryAfterMs;
  incidentId;
  details;
  closeCode;
  status;
  // Snake-case mirrors of the wire object, so that code written against the wire
  // shape (`e.retry_after_ms`, `e.incident_id`) reads the same values.
  retry_after_ms;
  incident_id;
  close_code;
  constructor(code, message, init = {}) {
    super(message);
    this.name = "HapaError";
    this.code = code;
    const known = isCatalogueCode(code) ? CATALOGUE[code] : void 0;
    this.retryable = init.retryable ?? known?.retryable ?? (code === "closed" || code === "timeout" || code === "connect");
    if (init.retryAfterMs !== void 0) this.retryAfterMs = this.retry_after_ms = init.retryAfterMs;
    if (init.incidentId !== void 0) this.incidentId = this.incident_id = init.incidentId;
    if (init.details !== void 0) this.details = init.details;
    if (init.closeCode !== void 0) this.closeCode = this.close_code = init.closeCode;
    if (init.status !== void 0) this.status = init.status;
    if (init.cause !== void 0) this.cause = init.cause;
  }
  /** fromWire builds the error of a stream.error or error frame. */
  static fromWire(e) {
    return new _HapaError(e.code, e.message, {
      retryable: e.retryable,
      retryAfterMs: e.retry_after_ms,
      incidentId: e.incident_id,
      details: e.details
    });
  }
  /**
   * fromHTTP builds the error of a refused upgrade or REST call from its status and
   * JSON body (`{error_code, detail|message, …}`, docs/api.md "Errors").
   */
  static fromHTTP(status, body) {
    const b = body && typeof body === "object" ? body : {};
    const code = typeof b.error_code === "string" ? b.error_code : statusCode(status);
    const msg = [b.detail, b.message, b.error_message].find((v) => typeof v === "string" && v !== "");
    return new _HapaError(code, msg ?? `HTTP ${status}`, {
      status,
      incidentId: typeof b.incident_id === "string" ? b.incident_id : void 0,
      details: b.details
    });
  }
  /** The wire-shaped object ({code, message, retryable, …}). */
  toJSON() {
    const o = { code: this.code, message: this.message, retryable: this.retryable };
    if (this.retryAfterMs !== void 0) o.retry_after_ms = this.retryAfterMs;
    if (this.incidentId !== void 0) o.incident_id = this.incidentId;
    if (this.details !== void 0) o.details = this.details;
    if (this.closeCode !== void 0) o.close_code = this.closeCode;
    return o;
  }
};
function statusCode(status) {
  switch (status) {
    case 400:
      return "E4001";
    case 401:
      return "E4003";
    case 403:
      return "E4005";
    case 404:
      return "E4011";
    case 409:
      return "E4012";
    case 413:
      return "E4010";
    case 422:
      return "E4008";
    case 429:
      return "E4004";
    case 502:
      return "E5006";
    case 503:
      return "E5005";
    case 504:
      return "E5001";
    default:
      return status >= 500 ? "E5004" : "connect";
  }
}
var CLOSE = {
  normal: 1e3,
  goingAway: 1001,
  abnormal: 1006,
  policy: 1008,
  tooBig: 1009,
  internal: 1011,
  restart: 1012,
  keyGone: 4001,
  slowConsumer: 4008,
  tooManyConnections: 4029,
  /** Sent by this client when a keepalive ping got no pong in time. */
  keepaliveTimeout: 4e3
};
function closeError(code, reason) {
  const m = /^(E\d{4}):\s*(.*)$/.exec(reason || "");
  if (m) return new HapaError(m[1], m[2] || reason, { closeCode: code, retryable: code !== CLOSE.keyGone });
  const why = `socket closed (${code}${reason ? " " + reason : ""})`;
  if (code === CLOSE.keyGone) return new HapaError("E4007", why, { closeCode: code, retryable: false });
  if (code === CLOSE.tooManyConnections) return new HapaError("E4015", why, { closeCode: code, retryable: true });
  return new HapaError("closed", why, { closeCode: code, retryable: true });
}

// src/backoff.ts
function reconnectDelay(attempt, reconnectAfterMs = 0, random = Math.random) {
  const cap = Math.min(3e4, 500 * 2 ** Math.min(Math.max(attempt, 0), 16));
  return Math.max(reconnectAfterMs || 0, Math.floor(random() * cap));
}
function restartDelay(reconnectAfterMs, random = Math.random) {
  return Math.max(0, reconnectAfterMs || 0) + Math.floor(random() * 1e3);
}
var TOO_MANY_CONNECTIONS_BACKOFF_MS = 3e4;
var STABLE_AFTER_MS = 6e4;

// src/stream.ts
var HapaStream = class {
  id;
  kind;
  /** The text received so far. */
  text = "";
  started = null;
  done = null;
  error = null;
  /** When the create frame was handed to the socket (performance.now() / Date.now() ms). */
  sentAt = 0;
  /** When the first delta arrived (same clock as sentAt); 0 before. */
  firstDeltaAt = 0;
  /** Settles when the stream ends; never rejects. */
  result;
  onStarted = null;
  onDelta = null;
  onDone = null;
  onError = null;
  /** @internal yield stream.error frames instead of throwing (the HapaRealtime facade). */
  yieldErrors = false;
  owner;
  lastSeq = 0;
  queue = [];
  waiters = [];
  failers = [];
  iterEnded = false;
  settle;
  constructor(owner, id, kind) {
    this.owner = owner;
    this.id = id;
    this.kind = kind;
    this.result = new Promise((resolve) => {
      this.settle = resolve;
    });
  }
  /** The id completion.feedback names (completion streams, once the server sent it). */
  get completionId() {
    return this.done?.completion_id ?? this.started?.completion_id;
  }
  /** True once stream.done or stream.error (or a local failure) has arrived. */
  get ended() {
    return this.done !== null || this.error !== null;
  }
  /** cancel asks the server to stop; the stream still ends with stream.done (cancelled). */
  cancel() {
    if (!this.ended) this.owner.cancelStream(this);
  }
  /** collect resolves with the whole text, or rejects with the stream's HapaError. */
  async collect() {
    const r = await this.result;
    if (r.error) throw r.error;
    return r.text;
  }
  /** deltas iterates the text pieces only. */
  async *deltas() {
    for await (const f of this) if (f.type === "stream.delta") yield f.text;
  }
  /** @internal a frame of this stream from the socket. */
  frame(f, now2) {
    if (this.ended) return;
    switch (f.type) {
      case "stream.started":
        this.started = f;
        this.onStarted?.(f);
        break;
      case "stream.delta":
        if (f.seq !== this.lastSeq + 1) {
          this.fail(new HapaError("protocol", `stream ${this.id}: delta seq ${f.seq} after ${this.lastSeq}`, { retryable: true }));
          this.owner.cancelStream(this);
          return;
        }
        this.lastSeq = f.seq;
        if (this.firstDeltaAt === 0) this.firstDeltaAt = now2;
        this.text += f.text;
        this.onDelta?.(f.text, f);
        break;
      case "stream.done":
        this.done = f;
        this.onDone?.(f);
        break;
      case "stream.error":
        this.fail(HapaError.fromWire(f.error), f);
        return;
    }
    this.push(f);
    if (f.type === "stream.done") this.settle({ text: this.text, started: this.started, done: f, error: null });
  }
  /** @internal ends the stream with an error (stream.error, or the socket went away). */
  fail(err, frame) {
    if (this.ended) return;
    this.error = err;
    const f = frame ?? { type: "stream.error", id: this.id, error: err.toJSON() };
    this.onError?.(err, f);
    if (this.yieldErrors) {
      this.push({ ...f, error: err });
    } else {
      this.push(f);
    }
    this.settle({ text: this.text, started: this.started, done: null, error: err });
  }
  /** @internal ends a stream that never reached the server (cancelled while queued). */
  endLocally() {
    if (this.ended) return;
    this.frame({
      type: "stream.done",
      id: this.id,
      finish_reason: "cancelled",
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
      ttft_ms: 0,
      latency_ms: 0,
      cached: false
    }, 0);
  }
  push(f) {
    const w = this.waiters.shift();
    const fail = this.failers.shift();
    if (w && fail) this.deliver(w, fail, f);
    else this.queue.push(f);
  }
  deliver(resolve, reject, f) {
    if (f.type === "stream.done" || f.type === "stream.error") this.iterEnded = true;
    if (f.type === "stream.error" && !this.yieldErrors) {
      reject(this.error);
      return;
    }
    resolve({ value: f, done: false });
  }
  [Symbol.asyncIterator]() {
    return {
      next: () => new Promise((resolve, reject) => {
        const f = this.queue.shift();
        if (f) this.deliver(resolve, reject, f);
        else if (this.iterEnded) resolve({ value: void 0, done: true });
        else {
          this.waiters.push(resolve);
          this.failers.push(reject);
        }
      }),
      return: () => {
        if (!this.iterEnded) {
          this.iterEnded = true;
          this.cancel();
        }
        return Promise.resolve({ value: void 0, done: true });
      }
    };
  }
};

// src/transport.ts
var WS_OPEN = 1;
function isWsPackage(ctor) {
  const p = ctor.prototype;
  return !!p && typeof p.terminate === "function" && typeof p.on === "function";
}
function isNode() {
  const p = globalThis.process;
  return !!p?.versions?.node;
}
async function resolveWebSocket(given) {
  if (given) return given;
  const g = globalThis.WebSocket;
  if (typeof g === "function") return g;
  try {
    const name = "ws";
    const m = await import(name);
    const ctor = m.WebSocket ?? m.default;
    if (typeof ctor === "function") return ctor;
  } catch (err) {
    throw new HapaError("connect", "this platform has no WebSocket: on Node 20 install the `ws` package (npm install ws) or pass options.WebSocket", { cause: err, retryable: false });
  }
  throw new HapaError("connect", "the `ws` package has no WebSocket export", { retryable: false });
}
function openSocket(ctor, url, creds, onRefused) {
  const headers = {};
  if (creds.apiKey) headers["X-API-Key"] = creds.apiKey;
  else if (creds.token) headers.Authorization = "Bearer " + creds.token;
  if (isWsPackage(ctor)) {
    const ws = new ctor(url, [PROTOCOL], { headers, perMessageDeflate: false });
    ws.on("unexpected-response", (_req, res) => {
      readBody(res).then((body) => {
        onRefused(HapaError.fromHTTP(res.statusCode ?? 0, body));
        ws.terminate();
      });
    });
    return ws;
  }
  if (creds.apiKey) return new ctor(url, [PROTOCOL, AUTH_SUBPROTOCOL_PREFIX + creds.apiKey]);
  if (creds.token) {
    if (!isNode()) {
      throw new HapaError("E4003", "a browser cannot send a JWT on a WebSocket: exchange it for an API key (POST /api/v1/users/generate-api-key)", { retryable: false });
    }
    return new ctor(url, { protocols: [PROTOCOL], headers });
  }
  return new ctor(url, [PROTOCOL]);
}
function readBody(res) {
  return new Promise((resolve) => {
    let text = "";
    res.setEncoding?.("utf8");
    res.on("data", (chunk) => {
      if (text.length < 65536) text += chunk;
    });
    res.on("end", () => {
      try {
        resolve(JSON.parse(text));
      } catch {
        resolve(void 0);
      }
    });
    res.on("error", () => resolve(void 0));
  });
}

// src/client.ts
var Connection = class {
  ws = null;
  created = null;
  closing = null;
  refused = null;
  dead = false;
  openedAt = 0;
  lastFrameAt = 0;
  streams = /* @__PURE__ */ new Map();
  calls = /* @__PURE__ */ new Map();
  keepalive = null;
  pongWait = null;
  get open() {
    return !this.dead && this.created !== null && this.ws !== null && this.ws.readyState === WS_OPEN;
  }
  send(f) {
    if (!this.open || !this.ws) throw new HapaError("closed", "socket is not open");
    this.ws.send(JSON.stringify(f));
  }
};
function now() {
  const p = globalThis.performance;
  return p ? p.now() : Date.now();
}
function unref(t) {
  t.unref?.();
  return t;
}
function defaultURL() {
  const loc = globalThis.location;
  if (!loc) return void 0;
  return `${loc.protocol === "https:" ? "wss" : "ws"}://${loc.host}/api/v1/realtime`;
}
var MAX_QUEUED_FEEDBACK = 100;
var MAX_TRACKED_FEEDBACK = 512;
var HapaClient = class {
  url;
  state = "idle";
  /** The session.created frame of the current socket. */
  session = null;
  /** The last session.closing frame. */
  closing = null;
  /** Sockets opened so far (handshakes started). */
  connectionsOpened = 0;
  opts;
  ctor = null;
  conn = null;
  // takes new streams
  draining = /* @__PURE__ */ new Set();
  // finishing their streams after session.closing
  queue = [];
  feedbackQueue = [];
  feedbackSent = /* @__PURE__ */ new Map();
  sessionState = {};
  listeners = {};
  seq = 0;
  attempt = 0;
  lastReconnectAfterMs = 0;
  retryTimer = null;
  dialing = false;
  openWaiters = [];
  lastError = null;
  constructor(opts = {}) {
    const url = opts.url ?? defaultURL();
    if (!url) throw new HapaError("connect", "HapaClient: options.url is required outside a browser page", { retryable: false });
    this.url = url;
    this.opts = opts;
    if (opts.profile !== void 0) this.sessionState.profile = opts.profile;
    if (opts.editor !== void 0) this.sessionState.editor = opts.editor;
    if (opts.workspace !== void 0) this.sessionState.workspace = opts.workspace;
  }
  // ---- events ------------------------------------------------------------------
  /** on subscribes to an event and returns the function that unsubscribes. */
  on(event, fn) {
    const set = this.listeners[event] ??= /* @__PURE__ */ new Set();
    set.add(fn);
    return () => set.delete(fn);
  }
  emit(event, ...args) {
    const set = this.listeners[event];
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(...args);
      } catch {
      }
    }
  }
  setState(s, info = {}) {
    if (info.error) this.lastError = info.error;
    if (this.state === s && info.retryInMs === void 0 && !info.error) return;
    this.state = s;
    this.emit("state", s, info);
  }
  // ---- connecting --------------------------------------------------------------
  /**
   * connect opens the socket and resolves with its session.created frame. It rejects
   * when the client gives up (the key is refused, or reconnect is off and the first
   * handshake fails); transient failures are retried with backoff meanwhile.
   */
  connect() {
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
  whenOpen() {
    if (this.conn?.open && this.session) return Promise.resolve(this.session);
    if (this.state === "closed" || this.state === "failed") {
      return Promise.reject(this.lastError ?? new HapaError("aborted", "the client is " + this.state, { retryable: false }));
    }
    return new Promise((resolve, reject) => this.openWaiters.push({ resolve, reject }));
  }
  async credentials() {
    if (this.opts.credentials) return await this.opts.credentials();
    return { apiKey: this.opts.apiKey, token: this.opts.token };
  }
  /** setCredentials changes the key or token used from the next handshake on. */
  setCredentials(creds) {
    this.opts = { ...this.opts, apiKey: creds.apiKey, token: creds.token, credentials: void 0 };
  }
  async dial() {
    if (this.dialing || this.state === "closed") return;
    this.dialing = true;
    const c = new Connection();
    try {
      this.ctor ??= await resolveWebSocket(this.opts.WebSocket);
      const creds = await this.credentials();
      if (this.state === "closed") {
        this.dialing = false;
        return;
      }
      this.connectionsOpened++;
      c.ws = openSocket(this.ctor, this.url, creds, (err) => {
        c.refused = err;
      });
    } catch (err) {
      this.dialing = false;
      const e = err instanceof HapaError ? err : new HapaError("connect", String(err?.message ?? err), { cause: err });
      this.afterClose(c, 0, "", e);
      return;
    }
    const ws = c.ws;
    const timeout = unref(setTimeout(() => {
      if (c.created || c.dead) return;
      c.refused ??= new HapaError("timeout", `no session.created within ${this.opts.connectTimeoutMs ?? 1e4} ms`);
      this.kill(c, CLOSE.keepaliveTimeout, "handshake timeout");
    }, this.opts.connectTimeoutMs ?? 1e4));
    ws.onmessage = (ev) => {
      if (c.dead || typeof ev.data !== "string") return;
      let f;
      try {
        f = JSON.parse(ev.data);
      } catch {
        return;
      }
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
    ws.onerror = () => {
    };
  }
  opened(c, created) {
    c.created = created;
    c.openedAt = now();
    this.conn = c;
    this.session = created;
    this.armKeepalive(c);
    const st = this.sessionState;
    if (st.profile !== void 0 || st.editor !== void 0 || st.workspace !== void 0) {
      const eid = this.nextID("e");
      c.send({ type: "session.update", event_id: eid, ...st });
    }
    this.setState("open");
    this.emit("session", created);
    for (const w of this.openWaiters.splice(0)) w.resolve(created);
    this.flush();
  }
  /** flush sends what waited for a socket. */
  flush() {
    const c = this.conn;
    if (!c?.open || c.closing) return;
    for (const { s, frame } of this.queue.splice(0)) this.sendCreate(c, s, frame);
    for (const f of this.feedbackQueue.splice(0)) this.trySend(c, f);
  }
  trySend(c, f) {
    try {
      c.send(f);
      return true;
    } catch {
      return false;
    }
  }
  /** kill drops a socket at once (handshake timeout, missing pong): it counts as closed now. */
  kill(c, code, reason) {
    if (c.dead) return;
    const ws = c.ws;
    try {
      if (ws?.terminate) ws.terminate();
      else ws?.close(code, reason);
    } catch {
    }
    this.afterClose(c, code, reason);
  }
  afterClose(c, code, reason, err) {
    if (c.dead) return;
    c.dead = true;
    this.clearKeepalive(c);
    if (!c.created) this.dialing = false;
    const error = err ?? c.refused ?? closeError(code, reason);
    const closedErr = new HapaError("closed", `socket closed (${code}${reason ? " " + reason : ""})`, { closeCode: code, retryable: true });
    for (const s of c.streams.values()) s.fail(closedErr);
    c.streams.clear();
    for (const call of c.calls.values()) {
      clearTimeout(call.timer);
      call.reject(closedErr);
    }
    c.calls.clear();
    const wasDraining = this.draining.delete(c);
    if (c.created) this.emit("disconnect", { code, reason, error, closing: c.closing });
    if (this.state === "closed") return;
    if (c === this.conn) this.conn = null;
    else if (wasDraining) return;
    if (c.created && now() - c.openedAt >= STABLE_AFTER_MS) this.attempt = 0;
    const fatal = isFatal(error);
    if (fatal || this.opts.reconnect === false) {
      this.fail(error);
      return;
    }
    let delay;
    if (c.closing || code === CLOSE.restart) {
      delay = restartDelay(c.closing?.reconnect_after_ms ?? this.lastReconnectAfterMs, this.opts.random);
    } else {
      delay = reconnectDelay(this.attempt++, this.lastReconnectAfterMs, this.opts.random);
      if (code === CLOSE.tooManyConnections || error.code === "E4015") delay = Math.max(delay, TOO_MANY_CONNECTIONS_BACKOFF_MS);
      if (error.retryAfterMs) delay = Math.max(delay, error.retryAfterMs);
    }
    this.scheduleDial(delay, error);
  }
  scheduleDial(delay, error) {
    if (this.retryTimer || this.dialing || this.state === "closed") return;
    this.setState("reconnecting", { error, retryInMs: delay });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.dial();
    }, delay);
  }
  fail(error) {
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
  armKeepalive(c) {
    const every = this.opts.keepaliveMs ?? 25e3;
    if (every <= 0 || c.dead) return;
    c.lastFrameAt = now();
    if (c.keepalive || c.pongWait) return;
    const check = (delay) => unref(setTimeout(() => {
      c.keepalive = null;
      if (!c.open) return;
      const idle = now() - c.lastFrameAt;
      if (idle < every) {
        c.keepalive = check(every - idle);
        return;
      }
      const eid = this.nextID("k");
      if (!this.trySend(c, { type: "ping", event_id: eid })) return;
      c.pongWait = unref(setTimeout(() => {
        c.pongWait = null;
        this.kill(c, CLOSE.keepaliveTimeout, "keepalive timeout");
      }, this.opts.pongTimeoutMs ?? 1e4));
    }, delay));
    c.keepalive = check(every);
  }
  clearKeepalive(c) {
    if (c.keepalive) clearTimeout(c.keepalive);
    if (c.pongWait) clearTimeout(c.pongWait);
    c.keepalive = c.pongWait = null;
  }
  // ---- incoming frames ---------------------------------------------------------
  dispatch(c, f) {
    if (c.pongWait) {
      clearTimeout(c.pongWait);
      c.pongWait = null;
    }
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
        s.frame(f, now());
        return;
      }
    }
    const eid = f.event_id;
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
  onClosing(c, f) {
    c.closing = f;
    this.closing = f;
    this.lastReconnectAfterMs = f.reconnect_after_ms || 0;
    this.emit("closing", f);
    if (c !== this.conn) return;
    this.draining.add(c);
    this.conn = null;
    this.scheduleDial(restartDelay(f.reconnect_after_ms, this.opts.random));
  }
  // ---- outgoing ----------------------------------------------------------------
  nextID(prefix) {
    return prefix + (++this.seq).toString(36);
  }
  call(frame) {
    const c = this.conn;
    if (!c?.open) return Promise.reject(new HapaError("closed", "socket is not open"));
    return new Promise((resolve, reject) => {
      const ms = this.opts.callTimeoutMs ?? 1e4;
      const timer = unref(setTimeout(() => {
        c.calls.delete(frame.event_id);
        reject(new HapaError("timeout", `no answer to ${frame.type} within ${ms} ms`));
      }, ms));
      c.calls.set(frame.event_id, { resolve, reject, timer });
      try {
        c.send(frame);
      } catch (e) {
        clearTimeout(timer);
        c.calls.delete(frame.event_id);
        reject(e);
      }
    });
  }
  /**
   * update changes the session (profile, editor, workspace; omitted fields keep their
   * value) and resolves with the session object. It is sent again on every new
   * socket. While disconnected it waits for the next socket.
   */
  async update(u) {
    const msg = { type: "session.update", event_id: this.nextID("e") };
    if (u.profile !== void 0) msg.profile = this.sessionState.profile = u.profile;
    if (u.editor !== void 0) msg.editor = this.sessionState.editor = u.editor;
    if (u.workspace !== void 0) msg.workspace = this.sessionState.workspace = u.workspace;
    if (!this.conn?.open) await (this.state === "idle" ? this.connect() : this.whenOpen());
    const f = await this.call(msg);
    return f.session;
  }
  /** ping measures the protocol-level round trip in ms. */
  async ping() {
    const t0 = now();
    await this.call({ type: "ping", event_id: this.nextID("e") });
    return now() - t0;
  }
  /** complete starts an inline completion (fill in the middle). */
  complete(params, opts = {}) {
    return this.create("completion", "completion.create", params, opts);
  }
  /** generate starts a generation (explain, fix, write tests, …). */
  generate(params, opts = {}) {
    return this.create("generation", "generation.create", params, opts);
  }
  create(kind, type, params, opts) {
    const id = params.id || this.nextID(kind === "completion" ? "c" : "g");
    const s = new HapaStream(this, id, kind);
    const frame = { ...params, type, id, event_id: "s" + id };
    for (const [k, v] of Object.entries(frame)) if (v === void 0) delete frame[k];
    if (opts.signal) {
      if (opts.signal.aborted) {
        s.endLocally();
        return s;
      }
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
      if (this.state === "idle") void this.connect().catch(() => {
      });
    }
    return s;
  }
  sendCreate(c, s, frame) {
    if (s.ended) return;
    if (c.streams.has(s.id)) {
      s.fail(new HapaError("E4012", `stream id ${s.id} is in flight`, { retryable: false }));
      return;
    }
    c.streams.set(s.id, s);
    s.conn = c;
    s.sentAt = now();
    try {
      c.send(frame);
    } catch (e) {
      c.streams.delete(s.id);
      s.fail(e instanceof HapaError ? e : new HapaError("closed", String(e)));
    }
  }
  /** @internal StreamOwner: cancel a stream wherever it is. */
  cancelStream(s) {
    const i = this.queue.findIndex((q) => q.s === s);
    if (i >= 0) {
      this.queue.splice(i, 1);
      s.endLocally();
      return;
    }
    const c = s.conn;
    if (c?.open) this.trySend(c, { type: "stream.cancel", id: s.id });
  }
  /** cancel cancels the stream with this id; it still ends with stream.done (cancelled). */
  cancel(id) {
    for (const c of [this.conn, ...this.draining]) {
      const s = c?.streams.get(id);
      if (s) {
        this.cancelStream(s);
        return;
      }
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
  feedback(completionId, event, opts = {}) {
    if (!completionId) return;
    const eid = this.nextID("f");
    const f = { type: "completion.feedback", event_id: eid, completion_id: completionId, event };
    if (opts.acceptedChars !== void 0) f.accepted_chars = opts.acceptedChars;
    if (opts.acceptedLines !== void 0) f.accepted_lines = opts.acceptedLines;
    this.feedbackSent.set(eid, { completionId, event });
    if (this.feedbackSent.size > MAX_TRACKED_FEEDBACK) {
      this.feedbackSent.delete(this.feedbackSent.keys().next().value);
    }
    const c = this.conn?.open ? this.conn : [...this.draining].find((d) => d.open);
    if (c && this.trySend(c, f)) return;
    if (this.state === "closed" || this.state === "failed") return;
    this.feedbackQueue.push(f);
    if (this.feedbackQueue.length > MAX_QUEUED_FEEDBACK) this.feedbackQueue.shift();
  }
  /** Streams in flight on any socket. */
  get inFlight() {
    let n = this.queue.length;
    for (const c of [this.conn, ...this.draining]) n += c?.streams.size ?? 0;
    return n;
  }
  /** close closes every socket (1000, or the code given) and stops reconnecting. */
  close(code = CLOSE.normal, reason = "") {
    if (this.state === "closed") return;
    this.setState("closed");
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    const err = new HapaError("aborted", "the client was closed", { retryable: false });
    for (const w of this.openWaiters.splice(0)) w.reject(err);
    for (const { s } of this.queue.splice(0)) s.fail(err);
    for (const c of [this.conn, ...this.draining]) {
      if (!c) continue;
      try {
        c.ws?.close(code, reason);
      } catch {
      }
      this.afterClose(c, code, reason);
    }
    this.conn = null;
    this.draining.clear();
  }
};
function isFatal(e) {
  return e.closeCode === CLOSE.keyGone || ["E4003", "E4005", "E4006", "E4007", "E4013"].includes(String(e.code)) || e.code === "connect" && e.retryable === false;
}

// src/realtime.ts
var HapaRealtime = class {
  url;
  key;
  onEvent;
  onClose;
  /** The session.created frame. */
  session = null;
  /** The last session.closing frame. */
  closing = null;
  /** The client underneath. */
  client;
  constructor({ url, key, onEvent, onClose, WebSocket } = {}) {
    this.client = new HapaClient({ url, apiKey: key || void 0, reconnect: false, WebSocket });
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
  async connect() {
    this.session = await this.client.connect();
    return this.session;
  }
  update(u = {}) {
    return this.client.update(u);
  }
  ping() {
    return this.client.ping();
  }
  generate(params) {
    return this.facade(this.client.generate(params));
  }
  complete(params) {
    return this.facade(this.client.complete(params));
  }
  cancel(id) {
    this.client.cancel(id);
  }
  close() {
    this.client.close(1e3);
  }
  facade(s) {
    s.yieldErrors = true;
    return s;
  }
};
export {
  AUTH_SUBPROTOCOL_PREFIX,
  CATALOGUE,
  CLIENT_ERROR_CODES,
  CLIENT_FIELDS,
  CLOSE,
  HapaClient,
  HapaError,
  HapaRealtime,
  HapaStream,
  PENDING_IN_DOC,
  PROTOCOL,
  SERVER_FIELDS,
  STABLE_AFTER_MS,
  TOO_MANY_CONNECTIONS_BACKOFF_MS,
  closeError,
  isCatalogueCode,
  isWsPackage,
  openSocket,
  reconnectDelay,
  resolveWebSocket,
  restartDelay
};
