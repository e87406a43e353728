// The WebSocket the platform has: Node's own (undici; Node >= 22, or Node 20 with
// --experimental-websocket) sends the key as the subprotocol hapa.auth.<key>, while
// Node 20 without it loads the `ws` package.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { promisify } from "node:util";

import { startStack } from "../../harness/hapa-stack.mjs";

const run = promisify(execFile);
let stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

const script = `
  const { HapaClient } = await import(process.argv[1]);
  const c = new HapaClient({ url: process.argv[2], apiKey: process.argv[3] });
  await c.connect();
  const text = await c.complete({ prefix: "def add(a, b):\\n    ", max_tokens: 8 }).collect();
  c.close();
  console.log(JSON.stringify({ global: typeof WebSocket, text: text.length }));
`;
const mod = new URL("../dist/esm/index.js", import.meta.url).href;

const major = Number(process.versions.node.split(".")[0]);
const hasGlobal = major >= 22 || process.allowedNodeEnvironmentFlags.has("--experimental-websocket");

test("Node's global WebSocket (subprotocol auth)", { skip: !hasGlobal && "this Node has no WebSocket of its own" }, async () => {
  const flags = major < 22 ? ["--experimental-websocket", "--no-warnings"] : [];
  const { stdout } = await run(process.execPath, [...flags, "--input-type=module", "-e", script, mod, stack.wsURL, stack.key]);
  const out = JSON.parse(stdout);
  assert.equal(out.global, "function");
  assert.ok(out.text > 0);
});

test("no global WebSocket: the ws package", { skip: typeof WebSocket === "function" && "this Node has a global WebSocket" }, async () => {
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script, mod, stack.wsURL, stack.key]);
  const out = JSON.parse(stdout);
  assert.equal(out.global, "undefined");
  assert.ok(out.text > 0);
});
