// @hapa/client — the TypeScript client of HAPA's WebSocket protocol hapa.v1
// (docs/protocol.md). See README.md.

export * from "./protocol.js";
export * from "./errors.js";
export * from "./backoff.js";
export { HapaStream } from "./stream.js";
export type { StreamEvent, StreamKind, StreamResult } from "./stream.js";
export { HapaClient } from "./client.js";
export type {
  ClientEvents,
  CompletionParams,
  ConnectionState,
  DisconnectInfo,
  FeedbackOptions,
  GenerationParams,
  HapaClientOptions,
  StreamOptions,
} from "./client.js";
export { HapaRealtime } from "./realtime.js";
export type { HapaRealtimeOptions } from "./realtime.js";
export { isWsPackage, openSocket, resolveWebSocket } from "./transport.js";
export type { Credentials, SocketLike, WebSocketConstructor } from "./transport.js";
