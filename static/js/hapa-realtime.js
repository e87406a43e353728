// hapa-realtime.js — browser client of HAPA's WebSocket protocol hapa.v1.
// ES module, no build step. The protocol is specified in docs/protocol.md.
//
// API (kept exactly in sync with docs/protocol.md, "Browser client"):
//
//   import { HapaRealtime, reconnectDelay } from "/static/js/hapa-realtime.js";
//
//   const rt = new HapaRealtime({
//     url,      // optional; default ws(s)://<this host>/api/v1/realtime
//     key,      // API key, sent as the subprotocol "hapa.auth.<key>" (never echoed back)
//     onEvent,  // optional (frame) => void: every server frame, after dispatch
//     onClose,  // optional ({code, reason, closing}) => void; closing is the last session.closing frame or null
//   });
//   const session = await rt.connect();   // resolves with the session.created frame
//   const info = await rt.update({ profile, editor: {name, version}, workspace }); // session object
//
//   const s = rt.generate({ prompt, model_type, context, language, max_tokens, temperature, top_p, profile, id });
//   const c = rt.complete({ prefix, suffix, language, file_path, max_tokens, temperature, stop, replace, id });
//     // s.id                      the stream id (generated when not given)
//     // s.onStarted = (frame) => {}
//     // s.onDelta   = (text, frame) => {}
//     // s.onDone    = (frame) => {}       stream.done (finish_reason stop | length | cancelled)
//     // s.onError   = (error, frame) => {} stream.error's error {code, message, retryable, retry_after_ms?},
//     //                                    or {code: "closed", ...} when the socket ends first
//     // s.result    Promise<{text, done, error}> that settles when the stream ends (never rejects)
//     // for await (const frame of s) {}   stream.started, stream.delta…, then stream.done or stream.error
//     // s.cancel()                        same as rt.cancel(s.id)
//   rt.cancel(id);                          // the stream still ends with stream.done (cancelled)
//   const ms = await rt.ping();             // protocol-level ping → pong round trip in ms
//   rt.close();                             // close 1000
//
//   reconnectDelay(attempt, reconnectAfterMs) → ms to wait before reconnect attempt n (0-based):
//     full-jitter exponential backoff from 500 ms to 30 s, never less than reconnectAfterMs.

const PROTOCOL = "hapa.v1";

/** reconnectDelay returns how long to wait before reconnect attempt `attempt` (0-based). */
export function reconnectDelay(attempt, reconnectAfterMs = 0) {
  const cap = Math.min(30000, 500 * 2 ** Math.min(attempt, 16));
  return Math.max(reconnectAfterMs || 0, Math.floor(Math.random() * cap));
}

function defaultURL() {
  const scheme = globalThis.location && location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${globalThis.location ? location.host : "localhost"}/api/v1/realtime`;
}

/** RealtimeStream is one completion or generation; see the API at the top of the file. */
class RealtimeStream {
  constructor(rt, id) {
    this.id = id;
    this.onStarted = null;
    this.onDelta = null;
    this.onDone = null;
    this.onError = null;
    this._rt = rt;
    this._text = "";
    this._queue = [];
    this._waiters = [];
    this._ended = false;
    this._iterDone = false; // the iterator has handed out the terminal frame
    this.result = new Promise((resolve) => { this._resolve = resolve; });
  }

  cancel() { this._rt.cancel(this.id); }

  _frame(f) {
    switch (f.type) {
      case "stream.started": this.onStarted?.(f); break;
      case "stream.delta": this._text += f.text; this.onDelta?.(f.text, f); break;
      case "stream.done": this.onDone?.(f); this._end({ text: this._text, done: f, error: null }); break;
      case "stream.error": this.onError?.(f.error, f); this._end({ text: this._text, done: null, error: f.error }); break;
    }
    this._push(f);
  }

  _fail(error) {
    if (this._ended) return;
    const f = { type: "stream.error", id: this.id, error };
    this.onError?.(error, f);
    this._push(f);
    this._end({ text: this._text, done: null, error });
  }

  _end(r) { this._ended = true; this._resolve(r); }

  _push(f) {
    const w = this._waiters.shift();
    if (w) this._deliver(w, f); else this._queue.push(f);
  }

  _deliver(resolve, f) {
    if (f.type === "stream.done" || f.type === "stream.error") this._iterDone = true;
    resolve({ value: f, done: false });
  }

  [Symbol.asyncIterator]() {
    return {
      next: () => new Promise((resolve) => {
        if (this._queue.length > 0) this._deliver(resolve, this._queue.shift());
        else if (this._iterDone) resolve({ value: undefined, done: true });
        else this._waiters.push(resolve);
      }),
      return: () => { this._iterDone = true; return Promise.resolve({ value: undefined, done: true }); },
    };
  }
}

/** HapaRealtime is one hapa.v1 socket; see the API at the top of the file. */
export class HapaRealtime {
  constructor({ url, key, onEvent, onClose } = {}) {
    this.url = url || defaultURL();
    this.key = key || "";
    this.onEvent = onEvent || null;
    this.onClose = onClose || null;
    this.session = null;   // the session.created frame
    this.closing = null;   // the last session.closing frame
    this._ws = null;
    this._streams = new Map();
    this._calls = new Map(); // event_id → {resolve, reject}
    this._seq = 0;
  }

  connect() {
    return new Promise((resolve, reject) => {
      const protocols = this.key ? [PROTOCOL, "hapa.auth." + this.key] : [PROTOCOL];
      const ws = new WebSocket(this.url, protocols);
      this._ws = ws;
      let opened = false;
      ws.onmessage = (m) => {
        if (typeof m.data !== "string") return;
        let f;
        try { f = JSON.parse(m.data); } catch { return; }
        if (!opened) {
          if (f.type !== "session.created") { reject(new Error("first frame is " + f.type)); ws.close(); return; }
          opened = true;
          this.session = f;
          resolve(f);
        } else {
          this._dispatch(f);
        }
        this.onEvent?.(f);
      };
      ws.onclose = (e) => {
        const err = { code: "closed", message: `socket closed (${e.code}${e.reason ? " " + e.reason : ""})`, retryable: true, close_code: e.code };
        for (const s of this._streams.values()) s._fail(err);
        this._streams.clear();
        for (const c of this._calls.values()) c.reject(new Error(err.message));
        this._calls.clear();
        if (!opened) reject(new Error(err.message));
        this.onClose?.({ code: e.code, reason: e.reason, closing: this.closing });
      };
    });
  }

  _dispatch(f) {
    if (f.type === "session.closing") this.closing = f;
    const call = f.event_id && this._calls.get(f.event_id);
    if (call) {
      this._calls.delete(f.event_id);
      if (f.type === "error") call.reject(Object.assign(new Error(f.error.message), f.error)); else call.resolve(f);
      return;
    }
    const s = f.id && f.type !== "error" && this._streams.get(f.id);
    if (s) {
      if (f.type === "stream.done" || f.type === "stream.error") this._streams.delete(f.id);
      s._frame(f);
    }
  }

  _send(obj) {
    if (!this._ws || this._ws.readyState !== WebSocket.OPEN) throw new Error("hapa-realtime: socket is not open");
    this._ws.send(JSON.stringify(obj));
  }

  _call(obj) {
    const eventID = "e" + (++this._seq);
    return new Promise((resolve, reject) => {
      this._calls.set(eventID, { resolve, reject });
      try { this._send({ ...obj, event_id: eventID }); } catch (e) { this._calls.delete(eventID); reject(e); }
    });
  }

  async update({ profile, editor, workspace } = {}) {
    const msg = { type: "session.update" };
    if (profile !== undefined) msg.profile = profile;
    if (editor !== undefined) msg.editor = editor;
    if (workspace !== undefined) msg.workspace = workspace;
    return (await this._call(msg)).session;
  }

  async ping() {
    const t0 = performance.now();
    await this._call({ type: "ping" });
    return performance.now() - t0;
  }

  _create(type, prefix, params) {
    const id = params.id || prefix + (++this._seq);
    if (this._streams.has(id)) throw new Error(`hapa-realtime: stream id ${id} is in flight`);
    const s = new RealtimeStream(this, id);
    this._streams.set(id, s);
    try { this._send({ ...params, type, id }); } catch (e) { this._streams.delete(id); throw e; }
    return s;
  }

  generate(params) { return this._create("generation.create", "g", params); }

  complete(params) { return this._create("completion.create", "c", params); }

  cancel(id) { this._send({ type: "stream.cancel", id }); }

  close() { this._ws?.close(1000); }
}
