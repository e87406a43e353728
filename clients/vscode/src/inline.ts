// Inline completions over the window's socket (docs/protocol.md, "Editor guidance"):
// debounce, then one completion.create with replace:true; when the user types on,
// VS Code cancels the request's token and the stream is cancelled, so the upstream
// generation stops at once. Recent suggestions are cached (cache.ts).
import * as vscode from "vscode";
import type { HapaStream } from "@hapa/client";

import { SuggestionCache } from "./cache";
import { readSettings, type Settings } from "./config";
import type { Connection } from "./connection";
import type { Telemetry } from "./telemetry";

/** The command an accepted inline completion runs (for the acceptance telemetry). */
export const ACCEPTED_COMMAND = "hapa.inlineAccepted";

/** contextAt returns the text before and after the position, bounded by the settings. */
export function contextAt(doc: vscode.TextDocument, pos: vscode.Position, s: Settings["completion"]): { prefix: string; suffix: string } {
  const at = doc.offsetAt(pos);
  const start = doc.positionAt(Math.max(0, at - s.maxPrefixChars));
  const end = doc.positionAt(at + s.maxSuffixChars);
  return {
    prefix: doc.getText(new vscode.Range(start, pos)),
    suffix: doc.getText(new vscode.Range(pos, end)),
  };
}

/** sleep waits ms and resolves true if the token was cancelled meanwhile. */
function sleep(ms: number, token: vscode.CancellationToken): Promise<boolean> {
  if (token.isCancellationRequested) return Promise.resolve(true);
  if (ms <= 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const t = setTimeout(() => { sub.dispose(); resolve(false); }, ms);
    const sub = token.onCancellationRequested(() => { clearTimeout(t); sub.dispose(); resolve(true); });
  });
}

interface Shown {
  id?: string;
  doc: string;
  prefix: string;
  suffix: string;
  text: string;
}

export class InlineProvider implements vscode.InlineCompletionItemProvider {
  readonly cache: SuggestionCache;
  /** The completion stream in flight, if any. */
  current: HapaStream | null = null;
  /** Requests sent, answered from the cache, and cancelled because the user typed on. */
  readonly stats = { requests: 0, cacheHits: 0, cancelled: 0, debounced: 0 };
  private shown: Shown | null = null;

  constructor(private readonly conn: Connection, private readonly telemetry: Telemetry) {
    this.cache = new SuggestionCache(readSettings().completion.cacheSize);
  }

  async provideInlineCompletionItems(doc: vscode.TextDocument, pos: vscode.Position,
    _ctx: vscode.InlineCompletionContext, token: vscode.CancellationToken): Promise<vscode.InlineCompletionItem[] | undefined> {
    const settings = readSettings();
    const s = settings.completion;
    this.cache.resize(s.cacheSize);
    if (!s.enabled || !s.languages.includes(doc.languageId)) return undefined;
    const { prefix, suffix } = contextAt(doc, pos, s);
    const uri = doc.uri.toString();
    this.settleShown(uri, prefix, suffix);

    const hit = this.cache.lookup(uri, prefix, suffix);
    if (hit) {
      this.stats.cacheHits++;
      this.cancelCurrent();
      this.markShown({ id: hit.completionId, doc: uri, prefix: prefix.slice(0, prefix.length - hit.typed), suffix, text: prefix.slice(prefix.length - hit.typed) + hit.text });
      return [this.item(hit.text, pos, hit.completionId)];
    }
    // The user typed on: the previous request is stale. Stop it now (the GPU too).
    this.cancelCurrent();
    const client = this.conn.client;
    if (!client || !prefix.trim()) return undefined;
    if (await sleep(s.debounceMs, token)) {
      this.stats.debounced++;
      return undefined;
    }
    const rel = vscode.workspace.asRelativePath(doc.uri, false);
    const stream = client.complete({
      prefix, suffix,
      language: doc.languageId,
      file_path: rel.slice(0, 1000),
      max_tokens: s.maxTokens,
      temperature: s.temperature,
      replace: true,
    });
    this.current = stream;
    this.stats.requests++;
    const sub = token.onCancellationRequested(() => { stream.cancel(); });
    let r;
    try {
      r = await stream.result;
    } finally {
      sub.dispose();
      if (this.current === stream) this.current = null;
    }
    if (r.done?.finish_reason === "cancelled") this.stats.cancelled++;
    if (token.isCancellationRequested || r.error || !r.done || r.done.finish_reason === "cancelled") return undefined;
    const text = r.text;
    if (!text.trim()) return undefined;
    const id = stream.completionId;
    this.cache.put(uri, prefix, suffix, { text, completionId: id });
    this.markShown({ id, doc: uri, prefix, suffix, text });
    return [this.item(text, pos, id)];
  }

  private item(text: string, pos: vscode.Position, id: string | undefined): vscode.InlineCompletionItem {
    const item = new vscode.InlineCompletionItem(text, new vscode.Range(pos, pos));
    item.command = { title: "HAPA: completion accepted", command: ACCEPTED_COMMAND, arguments: [id, text] };
    return item;
  }

  private cancelCurrent(): void {
    if (this.current && !this.current.ended) this.current.cancel();
    this.current = null;
  }

  private markShown(s: Shown): void {
    if (this.shown?.id !== s.id) this.telemetry.shown(s.id);
    this.shown = s;
  }

  /**
   * settleShown decides what became of the suggestion shown last, now that the
   * editor asks again: typed in full → accepted; partly typed → still shown;
   * anything else → dismissed.
   */
  private settleShown(doc: string, prefix: string, suffix: string): void {
    const sh = this.shown;
    if (!sh) return;
    if (sh.doc === doc && sh.suffix === suffix && prefix.startsWith(sh.prefix)) {
      const typed = prefix.slice(sh.prefix.length);
      if (typed === sh.text) {
        this.telemetry.accepted(sh.id, sh.text);
        this.shown = null;
        return;
      }
      if (sh.text.startsWith(typed)) return;
    }
    this.telemetry.dismissed(sh.id);
    this.shown = null;
  }

  /** accepted is run by the accepted item's command. */
  accepted(id: string | undefined, text: string): void {
    this.telemetry.accepted(id, text);
    if (this.shown?.id === id) this.shown = null;
  }

  dispose(): void {
    this.cancelCurrent();
  }
}
