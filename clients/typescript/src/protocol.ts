// The wire types of protocol hapa.v1 (docs/protocol.md, "Frames"). Every frame is one
// JSON text frame with a `type`. test/protocol-doc.test.js reads the tables of
// docs/protocol.md and checks that CLIENT_FIELDS and SERVER_FIELDS below list exactly
// the types and fields documented there; the type-level checks at the bottom of this
// file make sure that the interfaces and those lists agree. So the document, the lists
// and the interfaces cannot drift apart without a failing build or test.

/** The subprotocol the server selects. */
export const PROTOCOL = "hapa.v1";
/** Prefix of the subprotocol that carries an API key from clients that cannot set headers. */
export const AUTH_SUBPROTOCOL_PREFIX = "hapa.auth.";

// ---- shared objects --------------------------------------------------------------

/** The personalisation object of the REST API (docs/api.md); every field optional. */
export interface Profile {
  pythonSkillLevel?: string;
  codeOutputStructure?: string;
  explanationStyle?: string;
  projectContext?: string;
  errorHandlingPreference?: string;
  preferredLanguageFeatures?: string[];
}

/** Names the editor in session.update. */
export interface EditorInfo {
  name?: string;
  version?: string;
}

/** The limits object of session.created. */
export interface Limits {
  max_streams: number;
  max_message_bytes: number;
  ping_interval_ms: number;
  write_timeout_ms: number;
  frame_rate: number;
  frame_burst: number;
  max_conns_per_key: number;
}

/** Token accounting of stream.done. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** The error object of stream.error and error (docs/protocol.md, "Errors"). */
export interface WireError {
  code: string;
  message: string;
  retryable: boolean;
  retry_after_ms?: number;
  incident_id?: string;
  details?: unknown;
}

/** The session object of session.updated. */
export interface SessionInfo {
  id: string;
  profile?: Profile;
  editor?: EditorInfo;
  workspace?: string;
}

// ---- client → server -------------------------------------------------------------

export interface SessionUpdateFrame {
  type: "session.update";
  event_id?: string;
  profile?: Profile;
  editor?: EditorInfo;
  workspace?: string;
}

/** One context snippet of a create frame: a neighbouring file or a recent edit. */
export interface ContextSnippet {
  path?: string;
  text: string;
}

export interface CompletionCreateFrame {
  type: "completion.create";
  event_id?: string;
  id: string;
  prefix: string;
  suffix?: string;
  language?: string;
  file_path?: string;
  context_snippets?: ContextSnippet[];
  max_tokens?: number;
  temperature?: number;
  stop?: string | string[];
  replace?: boolean;
}

export interface GenerationCreateFrame {
  type: "generation.create";
  event_id?: string;
  id: string;
  prompt: string;
  model_type?: string;
  context?: string;
  language?: string;
  file_path?: string;
  context_snippets?: ContextSnippet[];
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  profile?: Profile;
}

export interface StreamCancelFrame {
  type: "stream.cancel";
  event_id?: string;
  id: string;
}

export interface PingFrame {
  type: "ping";
  event_id?: string;
}

/** What the user did with a shown inline completion (acceptance telemetry). */
export type FeedbackEvent = "shown" | "accepted" | "dismissed";

/**
 * Acceptance telemetry of one completion, named by the completion_id of its
 * stream.started / stream.done. No answer on success; a refusal is an `error` frame
 * echoing event_id.
 */
export interface CompletionFeedbackFrame {
  type: "completion.feedback";
  event_id?: string;
  completion_id: string;
  event: FeedbackEvent;
  accepted_chars?: number;
  accepted_lines?: number;
}

export type ClientFrame =
  | SessionUpdateFrame
  | CompletionCreateFrame
  | GenerationCreateFrame
  | StreamCancelFrame
  | PingFrame
  | CompletionFeedbackFrame;

// ---- server → client -------------------------------------------------------------

export interface SessionCreatedFrame {
  type: "session.created";
  session_id: string;
  protocol: string;
  server_version: string;
  limits: Limits;
}

export interface SessionUpdatedFrame {
  type: "session.updated";
  event_id?: string;
  session: SessionInfo;
}

export interface StreamStartedFrame {
  type: "stream.started";
  id: string;
  kind: "completion" | "generation";
  model: string;
  cached: boolean;
  coalesced: boolean;
  /** Completion streams: the id that completion.feedback names. */
  completion_id?: string;
}

export interface StreamDeltaFrame {
  type: "stream.delta";
  id: string;
  seq: number;
  text: string;
}

export type FinishReason = "stop" | "length" | "cancelled";

export interface StreamDoneFrame {
  type: "stream.done";
  id: string;
  finish_reason: FinishReason;
  usage: Usage;
  ttft_ms: number;
  latency_ms: number;
  cached: boolean;
  /** Completion streams: the id that completion.feedback names. */
  completion_id?: string;
}

export interface StreamErrorFrame {
  type: "stream.error";
  id: string;
  error: WireError;
  /** The tokens delivered before a stream that had started failed (revoked, cut at shutdown). */
  usage?: Usage;
}

export interface ErrorFrame {
  type: "error";
  event_id?: string;
  error: WireError;
}

export interface PongFrame {
  type: "pong";
  event_id?: string;
}

export interface SessionClosingFrame {
  type: "session.closing";
  reason: string;
  reconnect_after_ms: number;
}

export type ServerFrame =
  | SessionCreatedFrame
  | SessionUpdatedFrame
  | StreamStartedFrame
  | StreamDeltaFrame
  | StreamDoneFrame
  | StreamErrorFrame
  | ErrorFrame
  | PongFrame
  | SessionClosingFrame;

/** The frames of one stream, in the order the server sends them. */
export type StreamFrame = StreamStartedFrame | StreamDeltaFrame | StreamDoneFrame | StreamErrorFrame;

// ---- field lists, checked against docs/protocol.md -------------------------------

/**
 * The fields of every client frame besides `type` and `event_id` (which any client
 * event may carry), as docs/protocol.md lists them.
 */
export const CLIENT_FIELDS = {
  "session.update": ["profile", "editor", "workspace"],
  "completion.create": ["id", "prefix", "suffix", "language", "file_path", "context_snippets", "max_tokens", "temperature", "stop", "replace"],
  "generation.create": ["id", "prompt", "model_type", "context", "language", "file_path", "context_snippets", "max_tokens", "temperature", "top_p", "profile"],
  "stream.cancel": ["id"],
  ping: [],
  "completion.feedback": ["completion_id", "event", "accepted_chars", "accepted_lines"],
} as const;

/** The fields of every server frame besides `type`, as docs/protocol.md lists them. */
export const SERVER_FIELDS = {
  "session.created": ["session_id", "protocol", "server_version", "limits"],
  "session.updated": ["event_id", "session"],
  "stream.started": ["id", "kind", "model", "cached", "coalesced", "completion_id"],
  "stream.delta": ["id", "seq", "text"],
  "stream.done": ["id", "finish_reason", "usage", "ttft_ms", "latency_ms", "cached", "completion_id"],
  "stream.error": ["id", "error", "usage"],
  error: ["event_id", "error"],
  pong: ["event_id"],
  "session.closing": ["reason", "reconnect_after_ms"],
} as const;

/**
 * Parts of the protocol this client implements before docs/protocol.md describes
 * them (the server side added separately); empty while the two agree. Entries are
 * frame types or "type.field".
 */
export const PENDING_IN_DOC: readonly string[] = [];

// ---- type-level agreement of the lists and the interfaces ------------------------

type FieldsOf<F> = Exclude<keyof F, "type" | "event_id">;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type ClientByType = { [F in ClientFrame as F["type"]]: F };
type ServerByType = { [F in ServerFrame as F["type"]]: F };
type ClientAgrees = {
  [T in keyof ClientByType]: Same<FieldsOf<ClientByType[T]>, (typeof CLIENT_FIELDS)[T][number]>;
};
type ServerAgrees = {
  [T in keyof ServerByType]: Same<Exclude<keyof ServerByType[T], "type">, (typeof SERVER_FIELDS)[T][number]>;
};
type AllTrue<R> = R[keyof R] extends true ? true : false;
// A compile error here means an interface above and its field list disagree.
const clientAgrees: AllTrue<ClientAgrees> = true;
const serverAgrees: AllTrue<ServerAgrees> = true;
const sameClientTypes: Same<keyof ClientByType, keyof typeof CLIENT_FIELDS> = true;
const sameServerTypes: Same<keyof ServerByType, keyof typeof SERVER_FIELDS> = true;
void clientAgrees;
void serverAgrees;
void sameClientTypes;
void sameServerTypes;
