// Acceptance telemetry of inline completions: shown / accepted / dismissed, sent as
// completion.feedback on the window's socket. Off when the user turned VS Code's
// telemetry off or hapa.telemetry.enabled is false. A completion is reported shown
// once and then accepted or dismissed once at most.
import * as vscode from "vscode";
import type { FeedbackEvent } from "@hapa/client";

import type { Connection } from "./connection";
import { readSettings } from "./config";

export class Telemetry {
  private reported = new Map<string, FeedbackEvent>(); // completion id → last event

  constructor(private readonly conn: Connection) {}

  private enabled(): boolean {
    return readSettings().telemetry && vscode.env.isTelemetryEnabled !== false;
  }

  private send(id: string | undefined, event: FeedbackEvent, counts?: { acceptedChars: number; acceptedLines: number }): void {
    if (!id || !this.conn.client || !this.enabled()) return;
    const prev = this.reported.get(id);
    if (event === "shown" ? prev !== undefined : prev !== "shown") return;
    this.reported.set(id, event);
    if (this.reported.size > 1000) this.reported.delete(this.reported.keys().next().value as string);
    this.conn.client.feedback(id, event, counts);
  }

  shown(id: string | undefined): void { this.send(id, "shown"); }

  accepted(id: string | undefined, text: string): void {
    this.send(id, "accepted", { acceptedChars: text.length, acceptedLines: text.split("\n").length });
  }

  dismissed(id: string | undefined): void { this.send(id, "dismissed"); }
}
