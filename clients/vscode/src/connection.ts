// One HAPA socket per VS Code window: every completion, generation and feedback
// report of the window travels on it (docs/editors.md).
import * as vscode from "vscode";
import { HapaClient, type ConnectionState, type HapaError } from "@hapa/client";
import { WebSocket as WsWebSocket } from "ws";

import { endpoints, readSettings } from "./config";

/** The SecretStorage entry that holds the API key. */
export const SECRET_KEY = "hapa.apiKey";

export type Status = ConnectionState | "signedOut";

export interface ConnectionInfo {
  status: Status;
  /** The LoRA adapter of the last stream that started ("autocomplete", "prompt", …). */
  adapter?: string;
  serverVersion?: string;
  sessionId?: string;
  retryInMs?: number;
  error?: HapaError;
  url?: string;
}

export class Connection implements vscode.Disposable {
  client: HapaClient | null = null;
  info: ConnectionInfo = { status: "signedOut" };
  private readonly changed = new vscode.EventEmitter<ConnectionInfo>();
  readonly onDidChange = this.changed.event;
  private unsubscribe: Array<() => void> = [];
  private generation = 0;

  constructor(private readonly secrets: vscode.SecretStorage, private readonly log: vscode.OutputChannel) {}

  private update(patch: Partial<ConnectionInfo>): void {
    this.info = { ...this.info, ...patch };
    this.changed.fire(this.info);
  }

  /** start opens the socket with the stored key (or shows "signed out" without one). */
  async start(): Promise<void> {
    const gen = ++this.generation;
    this.stopClient();
    const key = await this.secrets.get(SECRET_KEY);
    if (gen !== this.generation) return; // a later restart won
    const settings = readSettings();
    let url: string;
    try {
      url = endpoints(settings.serverUrl).ws;
    } catch (e) {
      this.log.appendLine(String((e as Error).message));
      this.update({ status: "failed", error: undefined, url: settings.serverUrl });
      return;
    }
    if (!key) {
      this.update({ status: "signedOut", url, adapter: undefined, error: undefined });
      return;
    }
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const client = new HapaClient({
      url,
      apiKey: key,
      // The ws package sends the key as X-API-Key, whatever Node the editor runs.
      WebSocket: WsWebSocket as never,
      editor: { name: "vscode", version: vscode.version },
      workspace: folder ? folder.slice(0, 4096) : undefined,
    });
    this.client = client;
    this.update({ status: "connecting", url, error: undefined, retryInMs: undefined });
    this.unsubscribe.push(
      client.on("state", (state, detail) => {
        if (state === "closed") return;
        this.update({ status: state, retryInMs: detail.retryInMs, error: detail.error ?? (state === "open" ? undefined : this.info.error) });
        if (detail.error) this.log.appendLine(`socket: ${state}: ${detail.error.code} ${detail.error.message}`);
      }),
      client.on("session", (s) => {
        this.update({ serverVersion: s.server_version, sessionId: s.session_id });
        this.log.appendLine(`connected to ${url} (session ${s.session_id}, server ${s.server_version})`);
      }),
      client.on("frame", (f) => {
        if (f.type === "stream.started" && f.model && f.model !== this.info.adapter) this.update({ adapter: f.model });
      }),
      client.on("closing", (f) => this.log.appendLine(`server restarting (${f.reason}); moving to a new socket`)),
      client.on("error", (e) => this.log.appendLine(`server: ${e.code} ${e.message}`)),
      client.on("feedbackError", (x) => this.log.appendLine(`feedback ${x.event} of ${x.completionId} refused: ${x.error.code} ${x.error.message}`)),
    );
    client.connect().catch((e: HapaError) => {
      this.log.appendLine(`could not connect to ${url}: ${e.code} ${e.message}`);
    });
  }

  /** restart drops the socket and opens a new one (settings or key changed). */
  restart(): Promise<void> {
    return this.start();
  }

  private stopClient(): void {
    for (const u of this.unsubscribe.splice(0)) u();
    this.client?.close(1001, "editor reconnecting");
    this.client = null;
  }

  dispose(): void {
    this.generation++;
    this.stopClient();
    this.changed.dispose();
  }
}
