// The extension against a real gateway and simulator (HAPA_BIN), with the `vscode`
// module replaced by test/stub/vscode (NODE_PATH; see test/run.mjs).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as vscode from "vscode";

import { activate, type HapaExtension } from "../src/extension";
import { commentParams } from "../src/commands";
import { SECRET_KEY } from "../src/connection";

/* eslint-disable @typescript-eslint/no-explicit-any */
const stub = (vscode as any).__test;
const harnessPath = "../../../harness/hapa-stack.mjs";

let harness: any;
let stack: any;

before(async () => {
  harness = await import(harnessPath);
  // Tokens every 10 ms: a completion of 64 tokens takes ~0.7 s, long enough to be
  // superseded by the next keystroke, as on a real GPU.
  stack = await harness.startStack({ simArgs: ["--ttft", "20ms", "--itl", "10ms"] });
});
after(async () => { await stack?.stop(); });

interface Started { ctx: any; ext: HapaExtension; dispose(): void }

async function start(settings: Record<string, unknown> = {}, key: string | null = stack.key): Promise<Started> {
  stub.reset();
  stub.state.settings = { "hapa.serverUrl": stack.url, "hapa.completion.debounceMs": 0, ...settings };
  const ctx = stub.createContext();
  if (key) ctx.secrets._data.set(SECRET_KEY, key);
  const ext = await activate(ctx);
  return { ctx, ext, dispose: () => { for (const d of ctx.subscriptions) d.dispose(); } };
}

function waitFor<T>(fn: () => T | Promise<T>, ms = 10000, what = "condition"): Promise<T> {
  return harness.waitFor(fn, ms, what);
}

let docs = 0;
/** code is a Python file ending at a cursor; each call's text differs, so the gateway's response cache never answers it. */
function code(): string {
  return `# file ${++docs} of run ${process.pid}\nimport csv\n\n\ndef read_rows(path):\n    `;
}

function provide(ext: HapaExtension, doc: any, token?: vscode.CancellationToken) {
  const pos = doc.positionAt(doc.getText().length);
  const t = token ?? new vscode.CancellationTokenSource().token;
  return ext.inline.provideInlineCompletionItems(doc, pos, { triggerKind: 1, selectedCompletionInfo: undefined } as any, t);
}

describe("connection", () => {
  test("one socket carries completions and generations; the status bar shows state and adapter", async () => {
    const { ext, dispose } = await start();
    try {
      await waitFor(() => ext.connection.info.status === "open", 10000, "the socket");
      const item = stub.state.statusItems[0];
      assert.match(item.text, /HAPA/);
      assert.equal(item.visible, true);

      const doc = stub.createDocument(code());
      const items = await provide(ext, doc);
      assert.ok(items && items.length === 1);
      assert.ok(String(items[0].insertText).length > 0);
      assert.equal(ext.connection.info.adapter, "autocomplete");
      assert.match(item.text, /autocomplete/);

      stub.state.activeTextEditor = stub.createEditor(doc, new vscode.Position(3, 0), new vscode.Position(4, 4));
      const s = await vscode.commands.executeCommand<any>("hapa.explain");
      assert.equal(s.done.finish_reason === "stop" || s.done.finish_reason === "length", true);
      assert.ok(ext.panel.posted.some((m) => m.type === "delta"));
      assert.equal(ext.panel.posted.at(-1)?.type, "done");
      assert.equal(ext.connection.info.adapter, "comment");

      assert.equal(ext.connection.client?.connectionsOpened, 1, "one socket for the window");
    } finally {
      dispose();
    }
  });

  test("without a key the status bar asks to sign in; the e-mail sign-in stores a key and connects", async () => {
    const { ctx, ext, dispose } = await start({}, null);
    try {
      assert.equal(ext.connection.info.status, "signedOut");
      assert.match(stub.state.statusItems[0].text, /sign in/);
      assert.equal(stub.state.statusItems[0].command, "hapa.signIn");
      stub.state.inputs.push("grace@example.com");
      await vscode.commands.executeCommand("hapa.signIn");
      const key = await ctx.secrets.get(SECRET_KEY);
      assert.match(String(key), /^hapa_/);
      assert.notEqual(key, stack.key);
      await waitFor(() => ext.connection.info.status === "open", 10000, "the socket with the new key");
      const items = await provide(ext, stub.createDocument(code()));
      assert.ok(items && items.length === 1);
      assert.ok(stub.state.messages.some(([, m]: [string, string]) => /signed in/.test(m)));
    } finally {
      dispose();
    }
  });

  test("a bad server URL is reported, and fixing the setting reconnects", async () => {
    const { ext, dispose } = await start({ "hapa.serverUrl": "not a url" });
    try {
      assert.equal(ext.connection.info.status, "failed");
      await vscode.workspace.getConfiguration("hapa").update("serverUrl", stack.url);
      await waitFor(() => ext.connection.info.status === "open", 10000, "the socket after the fix");
    } finally {
      dispose();
    }
  });

  test("an unknown key ends in the failed state, not a reconnect loop", async () => {
    const { ext, dispose } = await start({}, "hapa_unknown_key_000000000000000000");
    try {
      await waitFor(() => ext.connection.info.status === "failed", 10000, "the refusal");
      assert.equal(ext.connection.info.error?.code, "E4003");
      assert.match(stub.state.statusItems[0].text, /disconnected/);
    } finally {
      dispose();
    }
  });
});

describe("inline completions", () => {
  test("typing on cancels the completion in flight, and the upstream generation stops", async () => {
    const { ext, dispose } = await start();
    try {
      await waitFor(() => ext.connection.info.status === "open");
      const before = await stack.simCounters();
      const doc = stub.createDocument(code());
      const first = new vscode.CancellationTokenSource();
      const p1 = provide(ext, doc, first.token);
      const s1 = await waitFor(() => ext.inline.current?.text ? ext.inline.current : null, 10000, "the first tokens");
      // The user types a character: VS Code cancels the first request and asks again.
      first.cancel();
      doc.append("r");
      const p2 = provide(ext, doc);
      assert.equal(await p1, undefined);
      const r1 = await s1!.result;
      assert.equal(r1.done?.finish_reason, "cancelled");
      const items = await p2;
      assert.ok(items && items.length === 1);
      await waitFor(async () => (await stack.simCounters()).aborted > before.aborted, 10000, "the simulator to abort the first generation");
      assert.ok(ext.inline.stats.cancelled >= 1);
    } finally {
      dispose();
    }
  });

  test("keystrokes inside the debounce send nothing; only the last one asks", async () => {
    const { ext, dispose } = await start({ "hapa.completion.debounceMs": 150 });
    try {
      await waitFor(() => ext.connection.info.status === "open");
      const doc = stub.createDocument(code());
      const pending = [];
      for (let i = 0; i < 5; i++) {
        const cts = new vscode.CancellationTokenSource();
        pending.push(provide(ext, doc, cts.token));
        if (i < 4) {
          await new Promise((r) => setTimeout(r, 20));
          cts.cancel();
          doc.append("x");
        }
      }
      const results = await Promise.all(pending);
      assert.deepEqual(results.slice(0, 4), [undefined, undefined, undefined, undefined]);
      assert.ok(results[4] && results[4].length === 1);
      assert.equal(ext.inline.stats.requests, 1);
      assert.equal(ext.inline.stats.debounced, 4);
    } finally {
      dispose();
    }
  });

  test("the last suggestions are cached: the same spot, or typing through a suggestion, sends no request", async () => {
    const { ext, dispose } = await start();
    try {
      await waitFor(() => ext.connection.info.status === "open");
      const doc = stub.createDocument(code());
      const a = await provide(ext, doc);
      const text = String(a![0].insertText);
      assert.ok(text.length >= 2);
      assert.equal(ext.inline.stats.requests, 1);
      const b = await provide(ext, doc);
      assert.equal(b![0].insertText, text);
      doc.append(text[0]);
      const c = await provide(ext, doc);
      assert.equal(c![0].insertText, text.slice(1));
      assert.equal(ext.inline.stats.requests, 1);
      assert.equal(ext.inline.stats.cacheHits, 2);
    } finally {
      dispose();
    }
  });

  test("languages outside the setting and a disabled setting get nothing", async () => {
    const { ext, dispose } = await start({ "hapa.completion.languages": ["python"] });
    try {
      await waitFor(() => ext.connection.info.status === "open");
      assert.equal(await provide(ext, stub.createDocument("fn main() {\n    ", "rust", "/work/project/main.rs")), undefined);
      await vscode.commands.executeCommand("hapa.toggleCompletions");
      assert.equal(await provide(ext, stub.createDocument(code())), undefined);
      assert.equal(ext.inline.stats.requests, 0);
    } finally {
      dispose();
    }
  });
});

describe("acceptance telemetry", () => {
  // The gateway does not send completion ids yet, so a stand-in client returns
  // streams that carry one and records the feedback the extension gives.
  function fakeClient(ext: HapaExtension) {
    const sent: any[] = [];
    let n = 0;
    const fake = {
      connectionsOpened: 1,
      complete() {
        const id = "cmpl-" + (++n);
        const text = "return list(csv.reader(open(path)))\n";
        return { completionId: id, ended: true, text, cancel() {}, result: Promise.resolve({ text, done: { finish_reason: "stop" }, error: null, started: { model: "autocomplete" } }) };
      },
      feedback(id: string, event: string, opts?: any) { sent.push({ id, event, ...(opts ?? {}) }); },
      close() {},
    };
    ext.connection.client?.close();
    (ext.connection as any).client = fake;
    return sent;
  }

  test("shown, accepted with its size, dismissed when the user goes elsewhere", async () => {
    const { ext, dispose } = await start();
    try {
      await waitFor(() => ext.connection.info.status === "open");
      const sent = fakeClient(ext);
      const doc = stub.createDocument(code());
      const items = await provide(ext, doc);
      const cmd = items![0].command!;
      await vscode.commands.executeCommand(cmd.command, ...(cmd.arguments ?? []));
      doc.append(String(items![0].insertText));
      await provide(ext, stub.createDocument("x = 1\n", "python", "/work/project/other.py"));
      await provide(ext, stub.createDocument("def f():\n    ", "python", "/work/project/third.py"));
      assert.deepEqual(sent, [
        { id: "cmpl-1", event: "shown" },
        { id: "cmpl-1", event: "accepted", acceptedChars: 36, acceptedLines: 2 },
        { id: "cmpl-2", event: "shown" },
        { id: "cmpl-2", event: "dismissed" },
        { id: "cmpl-3", event: "shown" },
      ]);
    } finally {
      dispose();
    }
  });

  test("no feedback when telemetry is off (the setting, or VS Code's own)", async () => {
    const { ext, dispose } = await start({ "hapa.telemetry.enabled": false });
    try {
      await waitFor(() => ext.connection.info.status === "open");
      const sent = fakeClient(ext);
      await provide(ext, stub.createDocument(code()));
      stub.state.settings["hapa.telemetry.enabled"] = true;
      stub.state.telemetry = false;
      await provide(ext, stub.createDocument("y = 2\n", "python", "/work/project/y.py"));
      assert.deepEqual(sent, []);
    } finally {
      dispose();
    }
  });
});

describe("generation panel", () => {
  test("Stop cancels the generation; closing the panel cancels too", async () => {
    const { ext, dispose } = await start({ "hapa.generation.maxTokens": 4096 });
    try {
      await waitFor(() => ext.connection.info.status === "open");
      const doc = stub.createDocument("def div(a, b):\n    return a / b\n");
      stub.state.activeTextEditor = stub.createEditor(doc, new vscode.Position(0, 0), new vscode.Position(1, 16));
      stub.state.diagnostics = [{ range: new vscode.Range(1, 11, 1, 16), message: "possible division by zero" }];
      const run = vscode.commands.executeCommand<any>("hapa.fix");
      await waitFor(() => ext.panel.posted.some((m) => m.type === "delta"), 10000, "the first tokens");
      const panel = stub.state.panels[0];
      panel._receive({ type: "stop" });
      const s = await run;
      assert.equal(s.done.finish_reason, "cancelled");
      assert.deepEqual(ext.panel.posted.at(-1), { type: "done", finish: "cancelled", model: "error_fix", tokens: s.done.usage.completion_tokens });
      assert.match(panel.webview.html, /id="stop"/);
      assert.equal(panel.posted.length, ext.panel.posted.length);

      const run2 = vscode.commands.executeCommand<any>("hapa.writeTests");
      await waitFor(() => ext.panel.stream?.text, 10000, "the second generation");
      panel.dispose();
      assert.equal((await run2).done.finish_reason, "cancelled");
    } finally {
      dispose();
    }
  });

  test("generate from a comment: the comment block is the prompt, the code above the context", async () => {
    const { ext, dispose } = await start();
    try {
      await waitFor(() => ext.connection.info.status === "open");
      const doc = stub.createDocument("import os\n\n# list the files of a folder\n# sorted by size\n");
      stub.state.activeTextEditor = stub.createEditor(doc, new vscode.Position(3, 4));
      const p = commentParams(stub.state.activeTextEditor)!;
      assert.equal(p.prompt, "list the files of a folder\nsorted by size");
      assert.equal(p.context, "import os\n\n");
      assert.equal(p.model_type, "code_generation");
      const s = await vscode.commands.executeCommand<any>("hapa.generateFromComment");
      assert.ok(s.text.length > 0);
      stub.state.activeTextEditor = stub.createEditor(stub.createDocument("x = 1\n"), new vscode.Position(0, 0));
      assert.equal(await vscode.commands.executeCommand("hapa.generateFromComment"), null);
      assert.ok(stub.state.messages.some(([, m]: [string, string]) => /comment/.test(m)));
    } finally {
      dispose();
    }
  });
});

describe("packaged bundle", () => {
  test("dist/extension.js (what the .vsix ships) activates and completes over the socket", async () => {
    stub.reset();
    stub.state.settings = { "hapa.serverUrl": stack.url, "hapa.completion.debounceMs": 0 };
    const ctx = stub.createContext();
    ctx.secrets._data.set(SECRET_KEY, stack.key);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundled = require("../../dist/extension.js");
    const ext = await bundled.activate(ctx);
    try {
      await waitFor(() => ext.connection.info.status === "open", 10000, "the socket");
      const items = await provide(ext, stub.createDocument(code()));
      assert.ok(items && items.length === 1);
    } finally {
      for (const d of ctx.subscriptions) d.dispose();
    }
  });
});
