// One completion or generation stream, multiplexed by id over the client's socket.
// docs/protocol.md, "Invariants": a started stream gets stream.started, its deltas
// (seq 1, 2, … gap-free), then exactly one stream.done or stream.error.

import { HapaError } from "./errors.js";
import type {
  StreamDeltaFrame,
  StreamDoneFrame,
  StreamErrorFrame,
  StreamFrame,
  StreamStartedFrame,
} from "./protocol.js";

export type StreamKind = "completion" | "generation";

/** What a stream ended with. Exactly one of done and error is set. */
export interface StreamResult {
  /** The concatenated text of the deltas received. */
  text: string;
  started: StreamStartedFrame | null;
  done: StreamDoneFrame | null;
  error: HapaError | null;
}

/** The frames an iteration yields: stream.started, the deltas, then stream.done. */
export type StreamEvent = StreamStartedFrame | StreamDeltaFrame | StreamDoneFrame;

/** How a stream reaches its socket; implemented by the client. */
export interface StreamOwner {
  cancelStream(s: HapaStream): void;
}

/**
 * HapaStream is one stream. Iterate it (`for await (const f of s)`) for its frames;
 * a stream.error, or the socket ending first, throws a HapaError out of the loop, and
 * leaving the loop early cancels the stream. Or await `s.result` (never rejects) or
 * `s.collect()` (the text; rejects with the HapaError). Callbacks onStarted, onDelta,
 * onDone, onError are called as frames arrive.
 */
export class HapaStream implements AsyncIterable<StreamEvent> {
  readonly id: string;
  readonly kind: StreamKind;
  /** The text received so far. */
  text = "";
  started: StreamStartedFrame | null = null;
  done: StreamDoneFrame | null = null;
  error: HapaError | null = null;
  /** When the create frame was handed to the socket (performance.now() / Date.now() ms). */
  sentAt = 0;
  /** When the first delta arrived (same clock as sentAt); 0 before. */
  firstDeltaAt = 0;
  /** Settles when the stream ends; never rejects. */
  readonly result: Promise<StreamResult>;

  onStarted: ((frame: StreamStartedFrame) => void) | null = null;
  onDelta: ((text: string, frame: StreamDeltaFrame) => void) | null = null;
  onDone: ((frame: StreamDoneFrame) => void) | null = null;
  onError: ((error: HapaError, frame: StreamErrorFrame) => void) | null = null;

  /** @internal yield stream.error frames instead of throwing (the HapaRealtime facade). */
  yieldErrors = false;

  private owner: StreamOwner;
  private lastSeq = 0;
  private queue: StreamFrame[] = [];
  private waiters: Array<(r: IteratorResult<StreamEvent>) => void> = [];
  private failers: Array<(e: unknown) => void> = [];
  private iterEnded = false;
  private settle!: (r: StreamResult) => void;

  constructor(owner: StreamOwner, id: string, kind: StreamKind) {
    this.owner = owner;
    this.id = id;
    this.kind = kind;
    this.result = new Promise((resolve) => { this.settle = resolve; });
  }

  /** The id completion.feedback names (completion streams, once the server sent it). */
  get completionId(): string | undefined {
    return this.done?.completion_id ?? this.started?.completion_id;
  }

  /** True once stream.done or stream.error (or a local failure) has arrived. */
  get ended(): boolean {
    return this.done !== null || this.error !== null;
  }

  /** cancel asks the server to stop; the stream still ends with stream.done (cancelled). */
  cancel(): void {
    if (!this.ended) this.owner.cancelStream(this);
  }

  /** collect resolves with the whole text, or rejects with the stream's HapaError. */
  async collect(): Promise<string> {
    const r = await this.result;
    if (r.error) throw r.error;
    return r.text;
  }

  /** deltas iterates the text pieces only. */
  async *deltas(): AsyncGenerator<string> {
    for await (const f of this) if (f.type === "stream.delta") yield f.text;
  }

  /** @internal a frame of this stream from the socket. */
  frame(f: StreamFrame, now: number): void {
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
        if (this.firstDeltaAt === 0) this.firstDeltaAt = now;
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
  fail(err: HapaError, frame?: StreamErrorFrame): void {
    if (this.ended) return;
    this.error = err;
    const f: StreamErrorFrame = frame ?? { type: "stream.error", id: this.id, error: err.toJSON() };
    this.onError?.(err, f);
    if (this.yieldErrors) {
      // The facade's callers read error.code etc. from the frame, as the wire has it.
      this.push({ ...f, error: err as unknown as StreamErrorFrame["error"] });
    } else {
      this.push(f);
    }
    this.settle({ text: this.text, started: this.started, done: null, error: err });
  }

  /** @internal ends a stream that never reached the server (cancelled while queued). */
  endLocally(): void {
    if (this.ended) return;
    this.frame({
      type: "stream.done", id: this.id, finish_reason: "cancelled",
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
      ttft_ms: 0, latency_ms: 0, cached: false,
    }, 0);
  }

  private push(f: StreamFrame): void {
    const w = this.waiters.shift();
    const fail = this.failers.shift();
    if (w && fail) this.deliver(w, fail, f);
    else this.queue.push(f);
  }

  private deliver(resolve: (r: IteratorResult<StreamEvent>) => void, reject: (e: unknown) => void, f: StreamFrame): void {
    if (f.type === "stream.done" || f.type === "stream.error") this.iterEnded = true;
    if (f.type === "stream.error" && !this.yieldErrors) {
      reject(this.error);
      return;
    }
    resolve({ value: f as StreamEvent, done: false });
  }

  [Symbol.asyncIterator](): AsyncIterator<StreamEvent> {
    return {
      next: () => new Promise<IteratorResult<StreamEvent>>((resolve, reject) => {
        const f = this.queue.shift();
        if (f) this.deliver(resolve, reject, f);
        else if (this.iterEnded) resolve({ value: undefined, done: true });
        else { this.waiters.push(resolve); this.failers.push(reject); }
      }),
      return: () => {
        if (!this.iterEnded) {
          this.iterEnded = true;
          this.cancel();
        }
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
