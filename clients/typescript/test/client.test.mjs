// The client against a real gateway and simulator (HAPA_BIN; see ../harness).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { HapaClient, HapaError, CATALOGUE } from "../dist/esm/index.js";
import { startGateway, startProxy, startStack, waitFor } from "../../harness/hapa-stack.mjs";

let stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

function client(opts = {}) {
  return new HapaClient({ url: stack.wsURL, apiKey: stack.key, random: () => 0, ...opts });
}

describe("socket", () => {
  test("connects with an API key, updates the session and pings", async () => {
    const c = client();
    try {
      const created = await c.connect();
      assert.equal(created.type, "session.created");
      assert.equal(created.protocol, "hapa.v1");
      assert.ok(created.limits.max_streams >= 1);
      assert.equal(c.state, "open");
      const s = await c.update({ workspace: "/home/ada/inventory", editor: { name: "node-test", version: process.version } });
      assert.equal(s.workspace, "/home/ada/inventory");
      assert.equal(s.editor.name, "node-test");
      assert.equal(typeof (await c.ping()), "number");
    } finally {
      c.close();
    }
    assert.equal(c.state, "closed");
  });

  test("a generation streams as an async iterator: started, gap-free deltas, done", async () => {
    const c = client();
    await c.connect();
    try {
      const s = c.generate({ prompt: "write a csv reader", max_tokens: 40 });
      const types = [];
      let text = "";
      let seq = 0;
      for await (const f of s) {
        types.push(f.type);
        if (f.type === "stream.delta") {
          assert.equal(f.seq, ++seq);
          text += f.text;
        }
      }
      assert.equal(types[0], "stream.started");
      assert.equal(types.at(-1), "stream.done");
      assert.ok(seq > 0);
      assert.equal(text, s.text);
      assert.ok(["stop", "length"].includes(s.done.finish_reason));
      assert.equal(s.started.kind, "generation");
      assert.ok(s.done.usage.completion_tokens > 0);
      assert.equal(await s.collect(), text);
    } finally {
      c.close();
    }
  });

  test("many streams share one socket", async () => {
    const c = client();
    await c.connect();
    try {
      const streams = [
        c.generate({ prompt: "parse a date", max_tokens: 30 }),
        c.generate({ prompt: "read a file", max_tokens: 30 }),
        c.complete({ prefix: "def add(a, b):\n    ", max_tokens: 16 }),
        c.complete({ prefix: "import os\n\ndef walk(", suffix: "\n", max_tokens: 16 }),
      ];
      const results = await Promise.all(streams.map((s) => s.result));
      for (const r of results) {
        assert.equal(r.error, null);
        assert.ok(r.text.length > 0);
      }
      assert.equal(new Set(streams.map((s) => s.id)).size, 4);
      assert.equal(c.connectionsOpened, 1);
    } finally {
      c.close();
    }
  });

  test("a stream opened before connect() waits for the socket", async () => {
    const c = client();
    try {
      const s = c.complete({ prefix: "def mul(a, b):\n    ", max_tokens: 8 });
      const r = await s.result;
      assert.equal(r.error, null);
      assert.equal(c.state, "open");
    } finally {
      c.close();
    }
  });
});

describe("completion feedback", () => {
  test("the gateway names each completion and takes its feedback; a forged id is refused", async () => {
    const c = client();
    const refusals = [];
    c.on("feedbackError", (x) => refusals.push(x));
    await c.connect();
    try {
      const s = c.complete({ prefix: "def add(a, b):\n    ", max_tokens: 8 });
      await s.collect();
      assert.match(s.completionId, /^cmpl-/);
      assert.equal(s.done.completion_id, s.completionId);
      const metric = async (event) => {
        const text = await (await fetch(stack.url + "/metrics")).text();
        const m = new RegExp(`^hapa_completion_events_total\\{event="${event}",language="python"\\} (\\d+)`, "m").exec(text);
        return m ? Number(m[1]) : 0;
      };
      const shown = await metric("shown");
      const accepted = await metric("accepted");
      c.feedback(s.completionId, "shown");
      c.feedback(s.completionId, "accepted", { acceptedChars: 5, acceptedLines: 1 });
      c.feedback(s.completionId, "accepted"); // a repeat: counted once
      c.feedback("cmpl-forged", "dismissed");
      await waitFor(() => refusals.length === 1, 5000);
      assert.equal(refusals[0].completionId, "cmpl-forged");
      assert.equal(refusals[0].error.code, "E4011");
      await waitFor(async () => (await metric("accepted")) === accepted + 1, 5000);
      assert.equal(await metric("shown"), shown + 1);
      assert.equal(refusals.length, 1, "the gateway refused a report it should take");
    } finally {
      c.close();
    }
  });
});

describe("cancellation", () => {
  test("cancel() ends the stream with finish_reason cancelled and the upstream generation stops", async () => {
    const c = client();
    await c.connect();
    try {
      const before = await stack.simCounters();
      const s = c.generate({ prompt: "an essay on closures", max_tokens: 2000, temperature: 0.9 });
      for await (const f of s) {
        if (f.type === "stream.delta") { s.cancel(); break; }
      }
      const r = await s.result;
      assert.equal(r.done.finish_reason, "cancelled");
      await waitFor(async () => (await stack.simCounters()).aborted > before.aborted, 10000, "the simulator to count an aborted request");
    } finally {
      c.close();
    }
  });

  test("leaving a for-await loop early cancels the stream", async () => {
    const c = client();
    await c.connect();
    try {
      const s = c.generate({ prompt: "a long story about lists", max_tokens: 2000, temperature: 0.8 });
      for await (const f of s) if (f.type === "stream.delta") break;
      const r = await s.result;
      assert.equal(r.done.finish_reason, "cancelled");
    } finally {
      c.close();
    }
  });

  test("a completion carries file_path and context_snippets: a Go file completes, too many snippets are E4010", async () => {
    const c = client();
    await c.connect();
    try {
      const r = await c.complete({
        prefix: "func checkout(c *Cart) float64 {\n\treturn ", suffix: "\n}\n", file_path: "cmd/shop/main.go", max_tokens: 8,
        context_snippets: [{ path: "shop/cart.go", text: "func (c *Cart) Total() float64 { return c.sum }\n" }],
      }).result;
      assert.ok(r.done && !r.error, `the stream ends with stream.done: ${JSON.stringify(r.error)}`);
      const many = Array.from({ length: 33 }, () => ({ text: "x = 1\n" }));
      await assert.rejects(c.complete({ prefix: "x = ", context_snippets: many }).collect(),
        (e) => e instanceof HapaError && e.code === "E4010");
    } finally {
      c.close();
    }
  });

  test("replace:true cancels the previous completion; an AbortSignal cancels too", async () => {
    const c = client();
    await c.connect();
    try {
      const first = c.complete({ prefix: "import sys\ndef main(", max_tokens: 1000, temperature: 0.9 });
      await new Promise((resolve) => { first.onDelta = () => resolve(); });
      const second = c.complete({ prefix: "import sys\ndef main():", max_tokens: 8, replace: true });
      assert.equal((await first.result).done.finish_reason, "cancelled");
      assert.notEqual((await second.result).done.finish_reason, "cancelled");

      const ac = new AbortController();
      const third = c.complete({ prefix: "class Stack:\n    ", max_tokens: 1000, temperature: 0.9 }, { signal: ac.signal });
      await new Promise((resolve) => { third.onDelta = () => resolve(); });
      ac.abort();
      assert.equal((await third.result).done.finish_reason, "cancelled");
    } finally {
      c.close();
    }
  });
});

describe("errors", () => {
  test("a refused create is a typed HapaError with its catalogue code", async () => {
    const c = client();
    await c.connect();
    try {
      const s = c.generate({ prompt: "x", language: "cobol" });
      await assert.rejects(s.collect(), (e) => e instanceof HapaError && e.code === "E4009" && e.retryable === false);
      await assert.rejects(async () => { for await (const _ of c.generate({ prompt: "" })) { /* nothing */ } },
        (e) => e instanceof HapaError && e.code === "E4002");
      await assert.rejects(c.update({ workspace: "x".repeat(5000) }), (e) => e instanceof HapaError && e.code === "E4008");
      assert.equal(CATALOGUE.E4009.status, 422);
      assert.equal(c.state, "open", "the socket stays open after refusals");
    } finally {
      c.close();
    }
  });

  test("an unknown key fails the connect with E4003 and is not retried", async () => {
    const c = client({ apiKey: "hapa_this_key_does_not_exist_0000000000" });
    await assert.rejects(c.connect(), (e) => e instanceof HapaError && e.code === "E4003" && e.status === 401);
    assert.equal(c.state, "failed");
    assert.equal(c.connectionsOpened, 1);
    const s = c.complete({ prefix: "x = " });
    assert.equal((await s.result).error.code, "E4003");
    c.close();
  });
});

describe("JWT", () => {
  test("connects with an access token from POST /api/v1/users/login", async () => {
    const res = await fetch(stack.url + "/api/v1/users/login", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: "ada@example.com", username: "ada" }),
    });
    assert.equal(res.status, 200);
    const { access_token: token } = await res.json();
    assert.ok(token);
    const c = new HapaClient({ url: stack.wsURL, token });
    try {
      await c.connect();
      const text = await c.complete({ prefix: "def sub(a, b):\n    ", max_tokens: 8 }).collect();
      assert.ok(text.length > 0);
    } finally {
      c.close();
    }
  });
});

describe("reconnecting", () => {
  test("a dropped socket reconnects, replays the session and serves new streams", async () => {
    const proxy = await startProxy(stack.url);
    const c = client({ url: proxy.wsURL, workspace: "/w/reconnect" });
    const states = [];
    c.on("state", (s) => states.push(s));
    try {
      await c.connect();
      const inflight = c.generate({ prompt: "an essay", max_tokens: 2000 });
      await new Promise((resolve) => { inflight.onDelta = () => resolve(); });
      const gone = new Promise((resolve) => c.on("disconnect", resolve));
      proxy.dropAll();
      const d = await gone;
      assert.equal(d.code, 1006);
      const r = await inflight.result;
      assert.equal(r.error.code, "closed");
      assert.equal(r.error.retryable, true);
      await waitFor(() => c.state === "open", 10000, "the reconnect");
      assert.ok(states.includes("reconnecting"));
      const s = await c.update({});
      assert.equal(s.workspace, "/w/reconnect", "session.update is replayed on the new socket");
      assert.ok((await c.complete({ prefix: "def f(x):\n    ", max_tokens: 8 }).collect()).length > 0);
      assert.equal(c.connectionsOpened, 2);
    } finally {
      c.close();
      await proxy.close();
    }
  });

  test("a socket that stops answering is noticed by the keepalive and replaced", async () => {
    const proxy = await startProxy(stack.url);
    const c = client({ url: proxy.wsURL, keepaliveMs: 150, pongTimeoutMs: 300 });
    try {
      await c.connect();
      const gone = new Promise((resolve) => c.on("disconnect", resolve));
      proxy.pause();
      const d = await gone;
      assert.equal(d.code, 4000);
      await waitFor(() => c.state === "open", 10000, "the reconnect");
      assert.equal(c.connectionsOpened, 2);
      assert.equal(typeof (await c.ping()), "number");
    } finally {
      c.close();
      await proxy.close();
    }
  });

  test("session.closing: running streams finish on the old socket, new ones go to the next server", async () => {
    // Two gateways behind one address; the first is shut down (SIGTERM), the "load
    // balancer" already points at the second.
    const other = await startGateway(stack.simURL, {}, stack.dir, "gw2");
    const proxy = await startProxy(stack.url);
    const c = client({ url: proxy.wsURL });
    try {
      await c.connect();
      const long = c.generate({ prompt: "a long answer", max_tokens: 600 });
      await new Promise((resolve) => { long.onDelta = () => resolve(); });
      const closing = new Promise((resolve) => c.on("closing", resolve));
      proxy.setTarget(other.url);
      const stopped = stack.gw.stop("SIGTERM", 30000);
      const f = await closing;
      assert.ok(f.reconnect_after_ms >= 0);
      // A stream created now waits for the next socket instead of being refused.
      const next = c.complete({ prefix: "def g(y):\n    ", max_tokens: 8 });
      const rl = await long.result;
      assert.equal(rl.error, null, "the running stream finished on the draining socket");
      assert.notEqual(rl.done.finish_reason, "cancelled");
      const rn = await next.result;
      assert.equal(rn.error, null);
      assert.equal(c.connectionsOpened, 2);
      assert.equal(c.state, "open");
      await stopped;
    } finally {
      c.close();
      await proxy.close();
      // The rest of the suite keeps a gateway: the second one takes over.
      stack.gw = other;
      stack.url = other.url;
      stack.wsURL = other.wsURL;
    }
  });
});
