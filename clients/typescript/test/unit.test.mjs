// Pure functions: backoff and error mapping.
import assert from "node:assert/strict";
import { test } from "node:test";

import { closeError, HapaError, reconnectDelay, restartDelay } from "../dist/esm/index.js";

test("reconnectDelay is full-jitter exponential backoff capped at 30 s, never under reconnect_after_ms", () => {
  assert.equal(reconnectDelay(0, 0, () => 0.999999), 499);
  assert.equal(reconnectDelay(3, 0, () => 0.5), 2000);
  assert.equal(reconnectDelay(20, 0, () => 0.999999), 29999);
  assert.equal(reconnectDelay(0, 2000, () => 0), 2000);
  for (let i = 0; i < 200; i++) {
    const d = reconnectDelay(i % 10);
    assert.ok(d >= 0 && d < 30000);
  }
  assert.equal(restartDelay(2000, () => 0.5), 2500);
});

test("close codes map to typed errors", () => {
  const revoked = closeError(4001, "E4007: API key revoked");
  assert.equal(revoked.code, "E4007");
  assert.equal(revoked.retryable, false);
  assert.equal(revoked.closeCode, 4001);
  assert.equal(closeError(4029, "").code, "E4015");
  const dropped = closeError(1006, "");
  assert.equal(dropped.code, "closed");
  assert.equal(dropped.retryable, true);
});

test("HTTP refusals keep the catalogue code, status and message", () => {
  const e = HapaError.fromHTTP(401, { error_code: "E4007", detail: "API key revoked", incident_id: "INC-1" });
  assert.equal(e.code, "E4007");
  assert.equal(e.status, 401);
  assert.equal(e.message, "API key revoked");
  assert.equal(e.incidentId, "INC-1");
  assert.equal(HapaError.fromHTTP(503, undefined).code, "E5005");
  const w = HapaError.fromWire({ code: "E4004", message: "slow down", retryable: true, retry_after_ms: 1200 });
  assert.equal(w.retryAfterMs, 1200);
  assert.equal(w.retry_after_ms, 1200);
  assert.deepEqual(w.toJSON(), { code: "E4004", message: "slow down", retryable: true, retry_after_ms: 1200 });
});
