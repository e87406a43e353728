// Inline completions while typing: one persistent socket against one HTTP request
// per completion, on the same gateway and simulator (docs/editors.md, "Measured").
//
// A seeded typist types a Python file at a realistic pace (about 65 words a minute,
// with pauses after ':' and at line ends). As in an editor, a completion is asked for
// when no key was pressed for the debounce (200 ms, the extension's default); the
// next keystroke makes it stale. Every variant replays the same keystrokes, so it
// sends the same requests at the same moments:
//
//   http      the original extension's path: a new HTTP request (its own TCP
//             connection, as its axios client made them) to POST /api/v1/code/complete
//             per completion; a stale request is left to finish and its answer dropped.
//   http-abort the best an HTTP client can do: keep-alive connections, and a stale
//             request is aborted (its connection closed, so the gateway cancels it).
//   socket    HapaClient: one socket, completion.create with replace:true, a stale
//             stream cancelled with stream.cancel (what clients/vscode does).
//
// Reported per variant: keystroke-to-first-token p50/p99 (from the keystroke that
// triggered the request to its first token: the first delta on the socket, the whole
// answer over one-shot HTTP; the debounce is part of it), the same from the moment
// the request left (p50), suggestions that arrived before the next keystroke,
// TCP connections opened, and the simulator's count of generations it started and
// of those aborted (upstream generations cancelled when superseded).
//
// Usage: HAPA_BIN=bin/hapa node bench/editor-latency.mjs [--completions 100] [--seed 7]
//        [--debounce 200] [--ttft 40ms] [--itl 8ms] [--max-tokens 64] [--json out.json]

import http from "node:http";
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

import { HapaClient } from "../dist/esm/index.js";
import { startStack } from "../../harness/hapa-stack.mjs";

const { values: opt } = parseArgs({
  options: {
    completions: { type: "string", default: "100" },
    seed: { type: "string", default: "7" },
    debounce: { type: "string", default: "200" },
    ttft: { type: "string", default: "40ms" },
    itl: { type: "string", default: "8ms" },
    "max-tokens": { type: "string", default: "64" },
    variants: { type: "string", default: "http,http-abort,socket" },
    json: { type: "string" },
  },
});
const N = Number(opt.completions);
const DEBOUNCE = Number(opt.debounce);
const MAX_TOKENS = Number(opt["max-tokens"]);

// ---- the typist ----------------------------------------------------------------

const SOURCE = `import csv
from collections import defaultdict


def read_orders(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def total_by_customer(orders):
    totals = defaultdict(float)
    for order in orders:
        totals[order["customer"]] += float(order["amount"])
    return dict(totals)


def top_customers(totals, n=5):
    ranked = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)
    return ranked[:n]


def main():
    orders = read_orders("orders.csv")
    totals = total_by_customer(orders)
    for name, amount in top_customers(totals):
        print(f"{name}: {amount:.2f}")


if __name__ == "__main__":
    main()
`;

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * schedule returns the keystrokes {at (ms from start), text typed so far} and the
 * requests {key (index of the keystroke that triggered it), at}: one request per
 * pause longer than the debounce, until n requests.
 */
function schedule(n, seed) {
  const rnd = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const keys = [];
  const requests = [];
  let t = 0;
  let i = 0;
  let round = 0;
  while (requests.length < n) {
    if (i >= SOURCE.length) { i = 0; round++; } // type the file again (a new round, a new prefix)
    const ch = SOURCE[i++];
    keys.push({ at: t, typed: i, round });
    // The gap after this key: ~150 ms median between keys (lognormal), longer
    // "thinking" pauses after a line or a block opener.
    let gap = 150 * Math.exp(0.45 * normal());
    if (ch === "\n") gap += 250 + 900 * rnd();
    else if (ch === ":" || ch === "(") gap += 300 * rnd();
    if (gap > DEBOUNCE) requests.push({ key: keys.length - 1, at: t + DEBOUNCE });
    t += gap;
  }
  keys.push({ at: t, typed: i, round }); // the keystroke that makes the last request stale
  return { keys, requests };
}

// ---- percentiles ----------------------------------------------------------------

function pct(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const sleepUntil = (t0, at) => new Promise((r) => setTimeout(r, Math.max(0, t0 + at - performance.now())));

// ---- variants -------------------------------------------------------------------

/** countingAgent is an http.Agent that counts the TCP connections it opens. */
function countingAgent(keepAlive) {
  const agent = new http.Agent({ keepAlive, maxSockets: 64 });
  agent.opened = 0;
  const create = agent.createConnection.bind(agent);
  agent.createConnection = (...args) => { agent.opened++; return create(...args); };
  return agent;
}

function httpComplete(base, agent, body, onDone) {
  const data = JSON.stringify(body);
  const u = new URL(base + "/api/v1/code/complete");
  const req = http.request({
    host: u.hostname, port: u.port, path: u.pathname, method: "POST", agent,
    headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data), "X-API-Key": stackKey },
  }, (res) => {
    let text = "";
    res.setEncoding("utf8");
    res.on("data", (c) => { text += c; });
    res.on("end", () => onDone(res.statusCode === 200 ? null : new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`)));
    res.on("error", (e) => onDone(e));
  });
  req.on("error", (e) => onDone(e));
  req.end(data);
  return req;
}

let stackKey = "";

/** run replays the schedule against one variant and returns its figures. */
async function run(variant, stack, plan) {
  const header = `# session: ${variant}\n`; // a different file per variant: no response-cache hits across variants
  const before = await stack.simCounters();
  const agent = variant === "http" ? countingAgent(false) : countingAgent(true);
  let client = null;
  if (variant === "socket") {
    client = new HapaClient({ url: stack.wsURL, apiKey: stack.key });
    await client.connect();
  }
  const reqs = plan.requests.map((r) => ({ ...r, sentAt: 0, firstAt: 0, doneAt: 0, error: null, superseded: false, stream: null, http: null, done: null }));
  const t0 = performance.now() + 50;
  const pending = [];
  let r = 0;
  for (let k = 0; k < plan.keys.length; k++) {
    const key = plan.keys[k];
    // Requests due before this keystroke.
    while (r < reqs.length && reqs[r].at < key.at) {
      const q = reqs[r++];
      await sleepUntil(t0, q.at);
      const kk = plan.keys[q.key];
      const prefix = header + SOURCE.slice(0, kk.typed) + (kk.round ? `\n# round ${kk.round}\n` : "");
      const body = { prefix, suffix: "\n", language: "python", max_tokens: MAX_TOKENS, temperature: 0.1 };
      q.sentAt = performance.now();
      if (variant === "socket") {
        const s = client.complete({ ...body, replace: true });
        q.stream = s;
        s.onDelta = () => { if (!q.firstAt) q.firstAt = performance.now(); };
        pending.push(s.result.then((res) => { q.doneAt = performance.now(); q.error = res.error; q.done = res.done; }));
      } else {
        pending.push(new Promise((resolve) => {
          q.http = httpComplete(stack.url, agent, body, (err) => {
            const t = performance.now();
            if (!q.firstAt && !err) q.firstAt = t;
            q.doneAt = t;
            q.error = err;
            resolve();
          });
        }));
      }
    }
    await sleepUntil(t0, key.at);
    // The keystroke makes the previous request stale.
    const prev = reqs[r - 1];
    if (prev && prev.key === k - 1 && !prev.doneAt) {
      prev.superseded = true;
      if (variant === "socket") prev.stream.cancel();
      else if (variant === "http-abort") prev.http.destroy();
    }
  }
  await Promise.all(pending);
  client?.close();
  // Let the simulator see the last aborts.
  await new Promise((res) => setTimeout(res, 500));
  const after = await stack.simCounters();
  agent.destroy();

  const lat = [];
  const sendLat = [];
  let shownInTime = 0;
  let errors = 0;
  for (const q of reqs) {
    const keyAt = t0 + plan.keys[q.key].at;
    const nextAt = t0 + plan.keys[q.key + 1].at;
    if (q.firstAt) {
      lat.push(q.firstAt - keyAt);
      sendLat.push(q.firstAt - q.sentAt);
      if (q.firstAt <= nextAt) shownInTime++;
    }
    const aborted = variant === "http-abort" && q.superseded; // our own abort, not a failure
    if (q.error && !aborted && q.error.code !== "closed") errors++;
  }
  lat.sort((a, b) => a - b);
  sendLat.sort((a, b) => a - b);
  return {
    variant,
    requests: reqs.length,
    withFirstToken: lat.length,
    p50: pct(lat, 0.5),
    p99: pct(lat, 0.99),
    sentP50: pct(sendLat, 0.5),
    shownInTime,
    superseded: reqs.filter((q) => q.superseded).length,
    connections: variant === "socket" ? client.connectionsOpened : agent.opened,
    upstreamStarted: after.finished - before.finished,
    upstreamAborted: after.aborted - before.aborted,
    errors,
  };
}

// ---- main -----------------------------------------------------------------------

const plan = schedule(N, Number(opt.seed));
const stack = await startStack({ simArgs: ["--ttft", opt.ttft, "--itl", opt.itl, "--seed", opt.seed] });
stackKey = stack.key;
const results = [];
try {
  // Warm both paths (first connection, first prompt template) outside the figures.
  const warm = new HapaClient({ url: stack.wsURL, apiKey: stack.key });
  await warm.complete({ prefix: "# warm-up\nx = ", max_tokens: 4 }).result;
  warm.close();
  for (const v of opt.variants.split(",")) {
    process.stderr.write(`running ${v} (${N} completions, ${(plan.keys.at(-1).at / 1000).toFixed(0)} s of typing)…\n`);
    results.push(await run(v, stack, plan));
  }
} finally {
  await stack.stop();
}

const typing = plan.keys.at(-1).at / 1000;
const ms = (v) => (Number.isNaN(v) ? "–" : `${v.toFixed(1)} ms`);
const label = { http: "HTTP, one request per completion (the original extension)", "http-abort": "HTTP keep-alive, stale requests aborted", socket: "one socket (HapaClient, clients/vscode)" };
const lines = [
  `${N} completions over ${plan.keys.length} keystrokes (${typing.toFixed(0)} s of typing, seed ${opt.seed}), debounce ${DEBOUNCE} ms, max_tokens ${MAX_TOKENS}, simulator TTFT ${opt.ttft}, ITL ${opt.itl}; node ${process.version}`,
  "",
  "| path | keystroke → first token p50 | p99 | request → first token p50 | with a first token | suggestions in time | connections opened | stale requests | upstream generations | of which cancelled | errors |",
  "|---|---|---|---|---|---|---|---|---|---|---|",
  ...results.map((x) => `| ${label[x.variant] ?? x.variant} | ${ms(x.p50)} | ${ms(x.p99)} | ${ms(x.sentP50)} | ${x.withFirstToken} | ${x.shownInTime} of ${x.requests} | ${x.connections} | ${x.superseded} | ${x.upstreamStarted} | ${x.upstreamAborted} | ${x.errors} |`),
];
console.log(lines.join("\n"));
if (opt.json) writeFileSync(opt.json, JSON.stringify({ options: opt, typingSeconds: typing, keystrokes: plan.keys.length, results }, null, 2) + "\n");
