// Opening a hapa.v1 socket on whatever WebSocket the platform has: the browser's,
// Node's global one (Node ≥ 22; undici), or the `ws` package (Node 20 and older, or
// when passed in). docs/protocol.md, "Connecting".

import { HapaError } from "./errors.js";
import { AUTH_SUBPROTOCOL_PREFIX, PROTOCOL } from "./protocol.js";

/** The part of the WebSocket API the client uses; browsers, undici and `ws` all have it. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

/** A WebSocket constructor: the standard one, or the `ws` package's. */
export type WebSocketConstructor = new (url: string, protocols?: unknown, options?: unknown) => SocketLike;

/** How the client authenticates: an API key (hapa_…) or a JWT from POST /api/v1/users/login. */
export interface Credentials {
  apiKey?: string;
  token?: string;
}

/** WS_OPEN is WebSocket.OPEN. */
export const WS_OPEN = 1;

/** isWsPackage tells the `ws` package's constructor (it can send handshake headers) from a standard one. */
export function isWsPackage(ctor: WebSocketConstructor): boolean {
  const p = (ctor as unknown as { prototype?: Record<string, unknown> }).prototype;
  return !!p && typeof p.terminate === "function" && typeof p.on === "function";
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return !!p?.versions?.node;
}

/**
 * resolveWebSocket returns the constructor to use: the one given, else the global
 * WebSocket (browsers, Node ≥ 22), else the `ws` package, loaded on demand.
 */
export async function resolveWebSocket(given?: WebSocketConstructor): Promise<WebSocketConstructor> {
  if (given) return given;
  const g = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (typeof g === "function") return g;
  try {
    const name = "ws"; // a variable, so that bundlers for the browser leave it alone
    const m = (await import(name)) as { WebSocket?: WebSocketConstructor; default?: WebSocketConstructor };
    const ctor = m.WebSocket ?? m.default;
    if (typeof ctor === "function") return ctor;
  } catch (err) {
    throw new HapaError("connect", "this platform has no WebSocket: on Node 20 install the `ws` package (npm install ws) or pass options.WebSocket", { cause: err, retryable: false });
  }
  throw new HapaError("connect", "the `ws` package has no WebSocket export", { retryable: false });
}

/**
 * openSocket starts the handshake. An API key goes in X-API-Key where the
 * implementation can send headers (`ws`), else as the subprotocol hapa.auth.<key>; a
 * JWT needs the Authorization header, which browsers cannot send. onRefused receives
 * the decoded error of a refused upgrade where the implementation exposes it (`ws`);
 * elsewhere a refusal is an abnormal close (1006).
 */
export function openSocket(ctor: WebSocketConstructor, url: string, creds: Credentials,
  onRefused: (err: HapaError) => void): SocketLike {
  const headers: Record<string, string> = {};
  if (creds.apiKey) headers["X-API-Key"] = creds.apiKey;
  else if (creds.token) headers.Authorization = "Bearer " + creds.token;
  if (isWsPackage(ctor)) {
    const ws = new ctor(url, [PROTOCOL], { headers, perMessageDeflate: false }) as SocketLike & WsExtras;
    ws.on("unexpected-response", (_req: unknown, res: IncomingLike) => {
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
    // Node's global WebSocket (undici) takes headers in its init dictionary.
    return new ctor(url, { protocols: [PROTOCOL], headers });
  }
  return new ctor(url, [PROTOCOL]);
}

interface WsExtras {
  on(event: string, fn: (...args: never[]) => void): void;
  terminate(): void;
}

interface IncomingLike {
  statusCode?: number;
  setEncoding?(enc: string): void;
  on(event: string, fn: (...args: never[]) => void): void;
}

function readBody(res: IncomingLike): Promise<unknown> {
  return new Promise((resolve) => {
    let text = "";
    res.setEncoding?.("utf8");
    res.on("data", (chunk: string) => { if (text.length < 65536) text += chunk; });
    res.on("end", () => { try { resolve(JSON.parse(text)); } catch { resolve(undefined); } });
    res.on("error", () => resolve(undefined));
  });
}
