// The status bar item: connection state and the adapter in use.
import * as vscode from "vscode";

import type { Connection, ConnectionInfo } from "./connection";

export class StatusBar implements vscode.Disposable {
  readonly item: vscode.StatusBarItem;
  private sub: vscode.Disposable;

  constructor(conn: Connection) {
    this.item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
    this.item.name = "HAPA";
    this.render(conn.info);
    this.sub = conn.onDidChange((i) => this.render(i));
    this.item.show();
  }

  render(i: ConnectionInfo): void {
    const it = this.item;
    it.backgroundColor = undefined;
    switch (i.status) {
      case "signedOut":
        it.text = "$(account) HAPA: sign in";
        it.tooltip = "HAPA: not signed in. Click to sign in with your e-mail.";
        it.command = "hapa.signIn";
        break;
      case "idle":
      case "connecting":
        it.text = "$(sync~spin) HAPA";
        it.tooltip = `HAPA: connecting to ${i.url ?? ""}`;
        it.command = undefined;
        break;
      case "open":
        it.text = `$(zap) HAPA${i.adapter ? " · " + i.adapter : ""}`;
        it.tooltip = `HAPA: connected to ${i.url ?? ""}` +
          (i.serverVersion ? `\nserver ${i.serverVersion}` : "") +
          (i.sessionId ? `\nsession ${i.sessionId}` : "") +
          (i.adapter ? `\nadapter in use: ${i.adapter}` : "");
        it.command = "hapa.toggleCompletions";
        break;
      case "reconnecting":
        it.text = "$(debug-disconnect) HAPA: reconnecting" + (i.retryInMs !== undefined ? ` in ${Math.ceil(i.retryInMs / 1000)} s` : "");
        it.tooltip = `HAPA: connection lost${i.error ? ` (${i.error.code}: ${i.error.message})` : ""}. Click to reconnect now.`;
        it.command = "hapa.reconnect";
        it.backgroundColor = new vscode.ThemeColor("statusBarItem.warningBackground");
        break;
      case "failed":
      case "closed":
        it.text = "$(error) HAPA: disconnected";
        it.tooltip = `HAPA: ${i.error ? `${i.error.code}: ${i.error.message}` : "not connected"}. Click to sign in again.`;
        it.command = "hapa.signIn";
        it.backgroundColor = new vscode.ThemeColor("statusBarItem.errorBackground");
        break;
    }
  }

  dispose(): void {
    this.sub.dispose();
    this.item.dispose();
  }
}
