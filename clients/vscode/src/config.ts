// The extension's settings (package.json "contributes.configuration").
import * as vscode from "vscode";

export interface Settings {
  serverUrl: string;
  completion: {
    enabled: boolean;
    languages: string[];
    debounceMs: number;
    maxTokens: number;
    temperature: number;
    maxPrefixChars: number;
    maxSuffixChars: number;
    cacheSize: number;
  };
  generationMaxTokens: number;
  telemetry: boolean;
}

function clamp(v: unknown, lo: number, hi: number, dflt: number): number {
  const n = typeof v === "number" && Number.isFinite(v) ? v : dflt;
  return Math.min(hi, Math.max(lo, n));
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration("hapa");
  const langs = c.get<unknown>("completion.languages");
  return {
    serverUrl: String(c.get("serverUrl") ?? "http://localhost:8000").trim() || "http://localhost:8000",
    completion: {
      enabled: c.get<boolean>("completion.enabled") !== false,
      languages: Array.isArray(langs) ? langs.map(String) : ["python"],
      debounceMs: clamp(c.get("completion.debounceMs"), 0, 2000, 200),
      maxTokens: clamp(c.get("completion.maxTokens"), 1, 512, 64),
      temperature: clamp(c.get("completion.temperature"), 0, 2, 0.1),
      maxPrefixChars: clamp(c.get("completion.maxPrefixChars"), 100, 8000, 6000),
      maxSuffixChars: clamp(c.get("completion.maxSuffixChars"), 0, 4000, 2000),
      cacheSize: clamp(c.get("completion.cacheSize"), 0, 1000, 64),
    },
    generationMaxTokens: clamp(c.get("generation.maxTokens"), 16, 4096, 1024),
    telemetry: c.get<boolean>("telemetry.enabled") !== false,
  };
}

/**
 * endpoints turns the server URL into the REST base and the WebSocket URL; a
 * ws(s):// URL or one that already ends in /api/v1/realtime is accepted too.
 */
export function endpoints(serverUrl: string): { http: string; ws: string } {
  let u: URL;
  try {
    u = new URL(serverUrl);
  } catch {
    throw new Error(`hapa.serverUrl is not a URL: ${JSON.stringify(serverUrl)}`);
  }
  if (u.protocol === "ws:") u.protocol = "http:";
  if (u.protocol === "wss:") u.protocol = "https:";
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new Error(`hapa.serverUrl must be http(s)://…, not ${u.protocol}`);
  }
  let path = u.pathname.replace(/\/+$/, "");
  path = path.replace(/\/api\/v1\/realtime$/, "").replace(/\/api\/v1$/, "");
  const http = `${u.protocol}//${u.host}${path}`;
  return { http, ws: http.replace(/^http/, "ws") + "/api/v1/realtime" };
}
