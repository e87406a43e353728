// Generations (explain, fix, write tests, from a comment) stream into one webview
// panel with a Stop button; closing the panel or Stop cancels the stream
// (stream.cancel), which stops the upstream generation.
import * as vscode from "vscode";
import type { GenerationParams, HapaError, HapaStream } from "@hapa/client";

import type { Connection } from "./connection";

/** Messages to the webview. */
export type PanelMessage =
  | { type: "start"; title: string }
  | { type: "delta"; text: string }
  | { type: "done"; finish: string; model?: string; tokens?: number }
  | { type: "error"; code: string; message: string };

export class GenerationPanel implements vscode.Disposable {
  panel: vscode.WebviewPanel | null = null;
  stream: HapaStream | null = null;
  /** Everything posted to the webview, newest last (kept short; for tests and re-renders). */
  readonly posted: PanelMessage[] = [];

  constructor(private readonly conn: Connection) {}

  private post(m: PanelMessage): void {
    this.posted.push(m);
    if (this.posted.length > 10000) this.posted.splice(0, this.posted.length - 10000);
    void this.panel?.webview.postMessage(m);
  }

  private ensurePanel(title: string): vscode.WebviewPanel {
    if (this.panel) {
      this.panel.title = title;
      this.panel.reveal(vscode.ViewColumn.Beside, true);
      return this.panel;
    }
    const p = vscode.window.createWebviewPanel("hapa.generation", title,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: [] });
    p.webview.html = html(nonce());
    p.webview.onDidReceiveMessage((m: { type?: string }) => {
      if (m?.type === "stop") this.stop();
      if (m?.type === "copy" && this.stream) void vscode.env.clipboard.writeText(this.stream.text);
    });
    p.onDidDispose(() => {
      this.panel = null;
      this.stop(); // the user closed the panel: nobody reads the rest
    });
    this.panel = p;
    return p;
  }

  /** run streams a generation into the panel; the previous one is cancelled. */
  async run(title: string, params: GenerationParams): Promise<HapaStream | null> {
    const client = this.conn.client;
    if (!client) {
      void vscode.window.showWarningMessage("HAPA: sign in first (HAPA: Sign In).");
      return null;
    }
    this.stop();
    this.ensurePanel(title);
    const s = client.generate(params);
    this.stream = s;
    this.post({ type: "start", title });
    try {
      for await (const f of s) {
        if (this.stream !== s) continue; // superseded; its cancel is on the way
        if (f.type === "stream.delta") this.post({ type: "delta", text: f.text });
        if (f.type === "stream.done") {
          this.post({ type: "done", finish: f.finish_reason, model: s.started?.model, tokens: f.usage?.completion_tokens });
        }
      }
    } catch (e) {
      const err = e as HapaError;
      if (this.stream === s) this.post({ type: "error", code: String(err.code ?? "error"), message: err.message });
    } finally {
      if (this.stream === s) this.stream = null;
    }
    return s;
  }

  /** stop cancels the generation in flight. */
  stop(): void {
    if (this.stream && !this.stream.ended) this.stream.cancel();
  }

  dispose(): void {
    this.stop();
    this.panel?.dispose();
  }
}

function nonce(): string {
  const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let s = "";
  for (let i = 0; i < 32; i++) s += a[Math.floor(Math.random() * a.length)];
  return s;
}

/** html is the panel page: a title, the streamed text, Stop and Copy buttons. */
function html(n: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${n}'; script-src 'nonce-${n}';">
<style nonce="${n}">
  body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 12px; }
  header { display: flex; gap: 8px; align-items: center; position: sticky; top: 0; background: var(--vscode-editor-background); padding: 8px 0; }
  h1 { font-size: 1.1em; flex: 1; margin: 0; }
  pre { white-space: pre-wrap; font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); }
  #meta { opacity: .75; font-size: .9em; }
  .error { color: var(--vscode-errorForeground); }
  button { background: var(--vscode-button-background); color: var(--vscode-button-foreground); border: 0; padding: 4px 10px; cursor: pointer; }
  button:disabled { opacity: .5; cursor: default; }
</style></head>
<body>
<header><h1 id="title">HAPA</h1><button id="stop" disabled>Stop</button><button id="copy">Copy</button></header>
<p id="meta" role="status"></p>
<pre id="out" aria-live="polite"></pre>
<script nonce="${n}">
  const vscode = acquireVsCodeApi();
  const $ = (id) => document.getElementById(id);
  $("stop").addEventListener("click", () => vscode.postMessage({ type: "stop" }));
  $("copy").addEventListener("click", () => vscode.postMessage({ type: "copy" }));
  window.addEventListener("message", (ev) => {
    const m = ev.data;
    if (m.type === "start") { $("title").textContent = m.title; $("out").textContent = ""; $("meta").textContent = "Streaming…"; $("meta").className = ""; $("stop").disabled = false; }
    if (m.type === "delta") $("out").textContent += m.text;
    if (m.type === "done") { $("stop").disabled = true; $("meta").textContent = (m.finish === "cancelled" ? "Stopped." : "Done.") + (m.model ? " · " + m.model : "") + (m.tokens ? " · " + m.tokens + " tokens" : ""); }
    if (m.type === "error") { $("stop").disabled = true; $("meta").className = "error"; $("meta").textContent = m.code + ": " + m.message; }
  });
</script>
</body></html>`;
}
