// The HAPA extension: one hapa.v1 socket per window (connection.ts) for inline
// completions (inline.ts), streamed generations (panel.ts, commands.ts) and
// acceptance telemetry (telemetry.ts). docs/editors.md describes it.
import * as vscode from "vscode";
import type { HapaError } from "@hapa/client";

import { setApiKey, signIn } from "./auth";
import { registerGenerationCommands } from "./commands";
import { Connection, SECRET_KEY } from "./connection";
import { ACCEPTED_COMMAND, InlineProvider } from "./inline";
import { GenerationPanel } from "./panel";
import { StatusBar } from "./status";
import { Telemetry } from "./telemetry";

/** What activate returns (the extension's API; the tests use it). */
export interface HapaExtension {
  connection: Connection;
  inline: InlineProvider;
  panel: GenerationPanel;
  status: StatusBar;
  telemetry: Telemetry;
}

export async function activate(context: vscode.ExtensionContext): Promise<HapaExtension> {
  const log = vscode.window.createOutputChannel("HAPA");
  const connection = new Connection(context.secrets, log);
  const status = new StatusBar(connection);
  const telemetry = new Telemetry(connection);
  const inline = new InlineProvider(connection, telemetry);
  const panel = new GenerationPanel(connection);

  const fail = (what: string) => (e: unknown) => {
    const err = e as HapaError;
    const msg = `${what}: ${err.code ? err.code + " " : ""}${err.message ?? String(e)}`;
    log.appendLine(msg);
    void vscode.window.showErrorMessage("HAPA " + msg);
  };

  context.subscriptions.push(
    log, connection, status, panel, inline,
    vscode.languages.registerInlineCompletionItemProvider({ pattern: "**" }, inline),
    vscode.commands.registerCommand(ACCEPTED_COMMAND, (id: string | undefined, text: string) => inline.accepted(id, text)),
    vscode.commands.registerCommand("hapa.signIn", async () => {
      try {
        if (await signIn(context.secrets)) {
          await connection.restart();
          void vscode.window.showInformationMessage("HAPA: signed in.");
        }
      } catch (e) { fail("sign-in failed")(e); }
    }),
    vscode.commands.registerCommand("hapa.setApiKey", async () => {
      if (await setApiKey(context.secrets)) await connection.restart();
    }),
    vscode.commands.registerCommand("hapa.signOut", async () => {
      await context.secrets.delete(SECRET_KEY);
      inline.cache.clear();
      await connection.restart();
    }),
    vscode.commands.registerCommand("hapa.reconnect", () => connection.restart()),
    vscode.commands.registerCommand("hapa.stopGeneration", () => panel.stop()),
    vscode.commands.registerCommand("hapa.toggleCompletions", async () => {
      const c = vscode.workspace.getConfiguration("hapa");
      const on = c.get<boolean>("completion.enabled") !== false;
      await c.update("completion.enabled", !on, vscode.ConfigurationTarget.Global);
      void vscode.window.showInformationMessage(`HAPA inline completions ${on ? "off" : "on"}.`);
    }),
    ...registerGenerationCommands(panel),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("hapa.serverUrl")) void connection.restart();
    }),
    context.secrets.onDidChange((e) => {
      if (e.key === SECRET_KEY) void connection.restart();
    }),
  );
  await connection.start();
  return { connection, inline, panel, status, telemetry };
}

export function deactivate(): void {
  // Everything is in context.subscriptions; the socket closes with them (1001).
}
