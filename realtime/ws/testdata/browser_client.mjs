// Drives static/js/hapa-realtime.js against a live server (TestBrowserClient).
// Usage: node --experimental-websocket browser_client.mjs <module-path> <ws-url> <key>
const [, , modPath, url, key] = process.argv;
const { HapaRealtime, reconnectDelay } = await import(modPath);

const out = {};
const rt = new HapaRealtime({ url, key, onClose: (e) => { out.closeCode = e.code; } });
const session = await rt.connect();
out.protocol = session.protocol;
out.maxStreams = session.limits.max_streams;
out.workspace = (await rt.update({ workspace: "/w", editor: { name: "node", version: process.version } })).workspace;
out.pingMs = typeof (await rt.ping());

// Callbacks + result promise.
const g = rt.generate({ prompt: "write a csv reader", max_tokens: 32 });
let deltas = 0, lastSeq = 0, gap = false;
g.onDelta = (text, f) => { deltas++; if (f.seq !== lastSeq + 1) gap = true; lastSeq = f.seq; };
const gr = await g.result;
out.generation = { finish: gr.done && gr.done.finish_reason, textLen: gr.text.length, deltas, gap };

// Async iterator.
const c = rt.complete({ prefix: "def add(a, b):\n    ", max_tokens: 16 });
const types = [];
for await (const f of c) types.push(f.type);
out.iterator = [types[0], types[types.length - 1]];

// Replace and cancel.
const c1 = rt.complete({ prefix: "import sys\ndef main(", max_tokens: 300, temperature: 0.9 });
await new Promise((r) => { c1.onDelta = () => r(); });
const c2 = rt.complete({ prefix: "import sys\ndef main():", max_tokens: 8, replace: true });
out.replaced = (await c1.result).done.finish_reason;
out.replacing = (await c2.result).done.finish_reason;
const g2 = rt.generate({ prompt: "a long essay", max_tokens: 400, temperature: 0.9 });
await new Promise((r) => { g2.onDelta = () => r(); });
g2.cancel();
out.cancelled = (await g2.result).done.finish_reason;

// Errors.
const bad = rt.generate({ prompt: "x", language: "cobol" });
out.badCode = (await bad.result).error.code;
try { await rt.update({ workspace: "x".repeat(5000) }); } catch (e) { out.updateError = e.code; }
out.delay = reconnectDelay(3, 2000) >= 2000;

rt.close();
await new Promise((r) => setTimeout(r, 100));
console.log(JSON.stringify(out));
