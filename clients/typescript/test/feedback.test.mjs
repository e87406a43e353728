// Completion feedback (acceptance telemetry) on the wire, frame by frame: a small
// hapa.v1 stand-in built on `ws` checks the exact frames the client sends and how it
// reads a refusal. client.test.mjs runs the same against the real gateway.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { WebSocketServer } from "ws";

import { HapaClient, HapaError } from "../dist/esm/index.js";
import { waitFor } from "../../harness/hapa-stack.mjs";

let wss;
let url;
const received = [];
const sockets = [];

before(async () => {
  wss = new WebSocketServer({ host: "127.0.0.1", port: 0, handleProtocols: (p) => (p.has("hapa.v1") ? "hapa.v1" : false) });
  await new Promise((r) => wss.once("listening", r));
  url = `ws://127.0.0.1:${wss.address().port}/api/v1/realtime`;
  wss.on("connection", (ws, req) => {
    sockets.push({ ws, key: req.headers["x-api-key"] });
    ws.send(JSON.stringify({ type: "session.created", session_id: "ses_test", protocol: "hapa.v1", server_version: "test",
      limits: { max_streams: 8, max_message_bytes: 262144, ping_interval_ms: 30000, write_timeout_ms: 10000, frame_rate: 50, frame_burst: 100, max_conns_per_key: 16 } }));
    ws.on("message", (data) => {
      const f = JSON.parse(data.toString());
      received.push(f);
      if (f.type === "completion.create") {
        const cid = "cmpl-" + f.id;
        ws.send(JSON.stringify({ type: "stream.started", id: f.id, kind: "completion", model: "autocomplete", cached: false, coalesced: false, completion_id: cid }));
        ws.send(JSON.stringify({ type: "stream.delta", id: f.id, seq: 1, text: "return a + b" }));
        ws.send(JSON.stringify({ type: "stream.done", id: f.id, finish_reason: "stop", usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 }, ttft_ms: 1, latency_ms: 2, cached: false, completion_id: cid }));
      } else if (f.type === "completion.feedback" && f.event === "dismissed") {
        ws.send(JSON.stringify({ type: "error", event_id: f.event_id, error: { code: "E4011", message: "unknown completion", retryable: false } }));
      }
    });
  });
});
after(() => new Promise((r) => wss.close(r)));

test("feedback frames carry completion_id, event and the accepted counts", async () => {
  const c = new HapaClient({ url, apiKey: "hapa_k", random: () => 0 });
  const refusals = [];
  c.on("feedbackError", (x) => refusals.push(x));
  try {
    await c.connect();
    assert.equal(sockets.at(-1).key, "hapa_k", "ws sends the key as X-API-Key");
    const s = c.complete({ prefix: "def add(a, b):\n    ", replace: true });
    assert.equal(await s.collect(), "return a + b");
    assert.equal(s.completionId, "cmpl-" + s.id);

    c.feedback(s.completionId, "shown");
    c.feedback(s.completionId, "accepted", { acceptedChars: 12, acceptedLines: 1 });
    c.feedback(s.completionId, "dismissed");
    await waitFor(() => refusals.length === 1, 5000, "the refusal");
    const fb = received.filter((f) => f.type === "completion.feedback");
    assert.equal(fb.length, 3);
    for (const f of fb) assert.match(f.event_id, /^f/);
    assert.deepEqual(fb.map(({ event_id, ...rest }) => rest), [
      { type: "completion.feedback", completion_id: s.completionId, event: "shown" },
      { type: "completion.feedback", completion_id: s.completionId, event: "accepted", accepted_chars: 12, accepted_lines: 1 },
      { type: "completion.feedback", completion_id: s.completionId, event: "dismissed" },
    ]);
    assert.equal(refusals[0].completionId, s.completionId);
    assert.equal(refusals[0].event, "dismissed");
    assert.ok(refusals[0].error instanceof HapaError);
    assert.equal(refusals[0].error.code, "E4011");

    const create = received.find((f) => f.type === "completion.create");
    assert.deepEqual(Object.keys(create).sort(), ["event_id", "id", "prefix", "replace", "type"]);
  } finally {
    c.close();
  }
});

test("feedback given while disconnected is sent on the next socket", async () => {
  const c = new HapaClient({ url, apiKey: "hapa_k", random: () => 0 });
  try {
    await c.connect();
    const n = sockets.length;
    const gone = new Promise((r) => c.on("disconnect", r));
    sockets.at(-1).ws.terminate();
    await gone;
    c.feedback("cmpl-offline", "accepted", { acceptedChars: 3, acceptedLines: 1 });
    await waitFor(() => sockets.length > n && received.some((f) => f.completion_id === "cmpl-offline"), 5000, "the queued feedback");
  } finally {
    c.close();
  }
});
