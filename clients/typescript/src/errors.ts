// Typed errors. Server errors carry a code of HAPA's error catalogue (docs/api.md,
// "Error catalogue"); test/protocol-doc.test.js checks CATALOGUE against that table.
// Errors the client raises itself carry one of CLIENT_ERROR_CODES instead.

import type { WireError } from "./protocol.js";

/** HAPA's error catalogue: code → HTTP status, summary and whether a retry can help. */
export const CATALOGUE = {
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
  E5006: { status: 502, message: "AI model returned an error", retryable: true },
} as const;

/** A code of HAPA's error catalogue. */
export type CatalogueCode = keyof typeof CATALOGUE;

/**
 * Codes of errors the client raises itself:
 * - `closed`: the socket ended before the stream's terminal frame (retry on the next socket);
 * - `timeout`: no answer in time (connect, ping, a call);
 * - `connect`: the socket could not be opened (network, refused upgrade without a body);
 * - `protocol`: the server sent something the protocol does not allow (a seq gap);
 * - `aborted`: the caller's AbortSignal fired, or the client was closed.
 */
export const CLIENT_ERROR_CODES = ["closed", "timeout", "connect", "protocol", "aborted"] as const;
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];

export type ErrorCode = CatalogueCode | ClientErrorCode;

export function isCatalogueCode(code: string): code is CatalogueCode {
  return Object.prototype.hasOwnProperty.call(CATALOGUE, code);
}

export interface HapaErrorInit {
  retryable?: boolean;
  retryAfterMs?: number;
  incidentId?: string;
  details?: unknown;
  /** The WebSocket close code, for `closed` errors and refusals by close code. */
  closeCode?: number;
  /** The HTTP status of a refused upgrade or REST call, when known. */
  status?: number;
  cause?: unknown;
}

/** HapaError is every error the client reports. `code` is typed; see ErrorCode. */
export class HapaError extends Error {
  readonly code: ErrorCode | string;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly incidentId?: string;
  readonly details?: unknown;
  readonly closeCode?: number;
  readonly status?: number;
  // Snake-case mirrors of the wire object, so that code written against the wire
  // shape (`e.retry_after_ms`, `e.incident_id`) reads the same values.
  readonly retry_after_ms?: number;
  readonly incident_id?: string;
  readonly close_code?: number;

  constructor(code: ErrorCode | string, message: string, init: HapaErrorInit = {}) {
    super(message);
    this.name = "HapaError";
    this.code = code;
    const known = isCatalogueCode(code) ? CATALOGUE[code] : undefined;
    this.retryable = init.retryable ?? known?.retryable ?? (code === "closed" || code === "timeout" || code === "connect");
    if (init.retryAfterMs !== undefined) this.retryAfterMs = this.retry_after_ms = init.retryAfterMs;
    if (init.incidentId !== undefined) this.incidentId = this.incident_id = init.incidentId;
    if (init.details !== undefined) this.details = init.details;
    if (init.closeCode !== undefined) this.closeCode = this.close_code = init.closeCode;
    if (init.status !== undefined) this.status = init.status;
    if (init.cause !== undefined) (this as { cause?: unknown }).cause = init.cause;
  }

  /** fromWire builds the error of a stream.error or error frame. */
  static fromWire(e: WireError): HapaError {
    return new HapaError(e.code, e.message, {
      retryable: e.retryable,
      retryAfterMs: e.retry_after_ms,
      incidentId: e.incident_id,
      details: e.details,
    });
  }

  /**
   * fromHTTP builds the error of a refused upgrade or REST call from its status and
   * JSON body (`{error_code, detail|message, …}`, docs/api.md "Errors").
   */
  static fromHTTP(status: number, body: unknown): HapaError {
    const b = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
    const code = typeof b.error_code === "string" ? b.error_code : statusCode(status);
    const msg = [b.detail, b.message, b.error_message].find((v) => typeof v === "string" && v !== "") as string | undefined;
    return new HapaError(code, msg ?? `HTTP ${status}`, {
      status,
      incidentId: typeof b.incident_id === "string" ? b.incident_id : undefined,
      details: b.details,
    });
  }

  /** The wire-shaped object ({code, message, retryable, …}). */
  toJSON(): WireError & { close_code?: number } {
    const o: WireError & { close_code?: number } = { code: this.code, message: this.message, retryable: this.retryable };
    if (this.retryAfterMs !== undefined) o.retry_after_ms = this.retryAfterMs;
    if (this.incidentId !== undefined) o.incident_id = this.incidentId;
    if (this.details !== undefined) o.details = this.details;
    if (this.closeCode !== undefined) o.close_code = this.closeCode;
    return o;
  }
}

/** statusCode guesses the catalogue code of an HTTP status that came without a body. */
function statusCode(status: number): string {
  switch (status) {
    case 400: return "E4001";
    case 401: return "E4003";
    case 403: return "E4005";
    case 404: return "E4011";
    case 409: return "E4012";
    case 413: return "E4010";
    case 422: return "E4008";
    case 429: return "E4004";
    case 502: return "E5006";
    case 503: return "E5005";
    case 504: return "E5001";
    default: return status >= 500 ? "E5004" : "connect";
  }
}

/**
 * Close codes of docs/protocol.md ("Close codes") and what they mean for a client.
 * 4001: the key was revoked or expired — never reconnect with it.
 */
export const CLOSE = {
  normal: 1000,
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
  keepaliveTimeout: 4000,
} as const;

/** codeOfClose maps a close that ended a socket to the catalogue code it stands for. */
export function closeError(code: number, reason: string): HapaError {
  const m = /^(E\d{4}):\s*(.*)$/.exec(reason || "");
  if (m) return new HapaError(m[1], m[2] || reason, { closeCode: code, retryable: code !== CLOSE.keyGone });
  const why = `socket closed (${code}${reason ? " " + reason : ""})`;
  if (code === CLOSE.keyGone) return new HapaError("E4007", why, { closeCode: code, retryable: false });
  if (code === CLOSE.tooManyConnections) return new HapaError("E4015", why, { closeCode: code, retryable: true });
  return new HapaError("closed", why, { closeCode: code, retryable: true });
}
