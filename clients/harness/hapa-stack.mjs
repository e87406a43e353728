// Starts a real vLLM simulator (`hapa sim`) and a gateway (`hapa serve`) in front of
// it, as child processes of HAPA_BIN on 127.0.0.1 ports the kernel picks, for the
// client and extension tests and the editor benchmark. SQLite in a scratch folder,
// the demo key and e-mail sign-in (SELF_SIGNUP) on, rate limits lifted.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const DEMO_KEY = "hapa_demo_20241228_secure_key_for_testing";
const RATE_RULES = "generation=100000000/m,stream=100000000/m,completion=100000000/m,ops=100000000/m,default=100000000/m,auth=100000/m";

export function hapaBin() {
  const bin = process.env.HAPA_BIN;
  if (!bin) throw new Error("HAPA_BIN is not set: run `make build` and set HAPA_BIN=$PWD/bin/hapa (make clients-test does both)");
  return bin;
}

/** startProcess runs HAPA_BIN with args and waits until a line of its output matches re. */
function startProcess(name, args, env, re, dir) {
  return new Promise((resolve, reject) => {
    const child = spawn(hapaBin(), args, {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME || dir, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    // Children must not outlive a test run that crashed.
    const reap = () => child.kill("SIGKILL");
    process.once("exit", reap);
    child.once("exit", () => process.off("exit", reap));
    let out = "";
    let done = false;
    const timer = setTimeout(() => finish(new Error(`${name} did not start within 30 s:\n${out}`)), 30000);
    function finish(err, m) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) { child.kill("SIGKILL"); reject(err); } else resolve({ child, match: m, log: () => out });
    }
    const onData = (b) => {
      out += b.toString();
      if (out.length > 1 << 20) out = out.slice(-(1 << 19));
      const m = re.exec(out);
      if (m) finish(null, m);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code, sig) => finish(new Error(`${name} exited (${code ?? sig}) during start:\n${out}`)));
    child.on("error", (e) => finish(e));
  });
}

function stopProcess(p, signal = "SIGTERM", waitMs = 20000) {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => { p.child.kill("SIGKILL"); }, waitMs);
    p.child.once("exit", () => { clearTimeout(t); resolve(); });
    p.child.kill(signal);
  });
}

/** startSim starts `hapa sim` with extra flags (e.g. ["--ttft", "40ms"]). */
export async function startSim(simArgs = [], dir) {
  const p = await startProcess("hapa sim", ["sim", "--host", "127.0.0.1", "--port", "0", ...simArgs], {},
    /on (http:\/\/127\.0\.0\.1:\d+)/, dir);
  return { ...p, url: p.match[1], stop: () => stopProcess(p) };
}

/** startGateway starts `hapa serve` in front of upstream; env adds settings. */
export async function startGateway(upstream, env = {}, dir, name = "gw") {
  const p = await startProcess("hapa serve", ["serve"], {
    HOST: "127.0.0.1", PORT: "0",
    DATABASE_URL: `sqlite:///${join(dir, name + ".db")}`,
    VLLM_SERVER_URL: upstream,
    DEMO_API_KEY_ENABLED: "true", SELF_SIGNUP: "true",
    RATE_LIMIT_ENABLED: "true", RATE_LIMIT_RULES: RATE_RULES,
    WS_MAX_CONNS_PER_KEY: "1000",
    STRUCTURED_LOGGING: "true", LOG_LEVEL: "INFO",
    SECRET_KEY: "hapa-clients-test-secret-0123456789abcdef",
    ...env,
  }, /"msg":"listening","server":"main","addr":"(http:\/\/127\.0\.0\.1:\d+)"/, dir);
  const url = p.match[1];
  return {
    ...p, url, wsURL: url.replace(/^http/, "ws") + "/api/v1/realtime",
    stop: (signal, waitMs) => stopProcess(p, signal, waitMs),
  };
}

/**
 * startStack starts a simulator and a gateway. Returns {url, wsURL, simURL, key,
 * sim, gw, dir, simCounters(), stop()}.
 */
export async function startStack({ simArgs = ["--ttft", "5ms", "--itl", "2ms"], env = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "hapa-clients-"));
  const sim = await startSim(simArgs, dir);
  let gw;
  try {
    gw = await startGateway(sim.url, env, dir);
  } catch (e) {
    await sim.stop();
    throw e;
  }
  return {
    dir, sim, gw, key: DEMO_KEY,
    url: gw.url, wsURL: gw.wsURL, simURL: sim.url,
    simCounters: () => simCounters(sim.url),
    async stop() {
      await this.gw.stop();
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * simCounters scrapes the simulator's /metrics (vLLM's names): finished requests,
 * of which aborted (the client went away: a cancelled generation), and running.
 */
export async function simCounters(simURL) {
  const text = await (await fetch(simURL + "/metrics")).text();
  const c = { finished: 0, aborted: 0, running: 0 };
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([^{\s]+)(\{[^}]*\})?\s+([-+0-9.eE]+)$/.exec(line.trim());
    if (!m) continue;
    const v = Number(m[3]);
    if (m[1] === "vllm:request_success_total") {
      c.finished += v;
      if ((m[2] || "").includes('finished_reason="abort"')) c.aborted += v;
    } else if (m[1] === "vllm:num_requests_running") {
      c.running = v;
    }
  }
  return c;
}

/** waitFor polls fn until it returns a truthy value, at most ms. */
export async function waitFor(fn, ms = 10000, what = "condition") {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * startProxy is a TCP forwarder on 127.0.0.1 standing in for a load balancer: the
 * target can be switched (reconnect "elsewhere"), every connection dropped at once
 * (an abnormal close, 1006), or forwarding on the open connections paused while they stay open (a
 * half-open connection that only a keepalive notices).
 */
export async function startProxy(targetURL) {
  const net = await import("node:net");
  let target = new URL(targetURL);
  const pairs = new Set();
  let accepted = 0;
  const server = net.createServer((client) => {
    accepted++;
    const upstream = net.connect(Number(target.port), target.hostname);
    const pair = { client, upstream };
    pairs.add(pair);
    const forward = (from, to) => from.on("data", (b) => { if (!pair.paused) to.write(b); });
    forward(client, upstream);
    forward(upstream, client);
    const end = () => { pairs.delete(pair); client.destroy(); upstream.destroy(); };
    client.on("close", end); upstream.on("close", end);
    client.on("error", end); upstream.on("error", end);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const port = server.address().port;
  return {
    url: `http://127.0.0.1:${port}`,
    wsURL: `ws://127.0.0.1:${port}/api/v1/realtime`,
    get accepted() { return accepted; },
    setTarget(u) { target = new URL(u); },
    dropAll() { for (const p of pairs) { p.client.destroy(); p.upstream.destroy(); } },
    /** pause stops forwarding on the connections open now (new ones still forward). */
    pause() { for (const p of pairs) p.paused = true; },
    close() { for (const p of pairs) { p.client.destroy(); p.upstream.destroy(); } return new Promise((r) => server.close(r)); },
  };
}
