// Reconnect delays of docs/protocol.md ("Reconnecting").

/**
 * reconnectDelay returns how long to wait before reconnect attempt `attempt`
 * (0-based): exponential backoff with full jitter, random(0, min(30 s, 0.5 s · 2ⁿ)),
 * and never less than the server's last reconnect_after_ms.
 */
export function reconnectDelay(attempt: number, reconnectAfterMs = 0, random: () => number = Math.random): number {
  const cap = Math.min(30000, 500 * 2 ** Math.min(Math.max(attempt, 0), 16));
  return Math.max(reconnectAfterMs || 0, Math.floor(random() * cap));
}

/** restartDelay is the wait after session.closing or close 1012: reconnect_after_ms plus 0–1 s. */
export function restartDelay(reconnectAfterMs: number, random: () => number = Math.random): number {
  return Math.max(0, reconnectAfterMs || 0) + Math.floor(random() * 1000);
}

/** After 4029 (too many sockets for the key) a client backs off at least this long. */
export const TOO_MANY_CONNECTIONS_BACKOFF_MS = 30000;

/** A socket that stayed up this long resets the attempt counter. */
export const STABLE_AFTER_MS = 60000;
