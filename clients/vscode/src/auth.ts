// Sign-in with the e-mail flow the gateway offers (docs/api.md, "Users"):
// POST /api/v1/users/login {email[, password]} → access token, then
// POST /api/v1/users/generate-api-key with it → an API key, kept in SecretStorage.
import * as vscode from "vscode";
import { HapaError } from "@hapa/client";

import { endpoints, readSettings } from "./config";
import { SECRET_KEY } from "./connection";

async function postJSON(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) });
  } catch (e) {
    throw new HapaError("connect", `cannot reach ${url}: ${(e as Error).message}`, { cause: e });
  }
  let data: unknown;
  try { data = await res.json(); } catch { data = undefined; }
  if (!res.ok) throw HapaError.fromHTTP(res.status, data);
  return (data ?? {}) as Record<string, unknown>;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * signIn asks for the e-mail (and a password when the account has one), signs in and
 * stores a new API key. Returns the key, or undefined when the user gave up.
 */
export async function signIn(secrets: vscode.SecretStorage): Promise<string | undefined> {
  const { http } = endpoints(readSettings().serverUrl);
  const email = await vscode.window.showInputBox({
    title: "HAPA: Sign In", prompt: `E-mail address for ${http}`, placeHolder: "you@example.com", ignoreFocusOut: true,
    validateInput: (v) => (EMAIL.test(v.trim()) ? undefined : "Enter an e-mail address"),
  });
  if (!email) return undefined;
  let login: Record<string, unknown>;
  try {
    login = await postJSON(http + "/api/v1/users/login", { email: email.trim() });
  } catch (e) {
    if (!(e instanceof HapaError) || e.status !== 401) throw e;
    // The account has a password (or the server does not create accounts on first login).
    const password = await vscode.window.showInputBox({ title: "HAPA: Sign In", prompt: `Password for ${email}`, password: true, ignoreFocusOut: true });
    if (!password) return undefined;
    login = await postJSON(http + "/api/v1/users/login", { email: email.trim(), password });
  }
  const token = String(login.access_token ?? "");
  if (!token) throw new HapaError("E5004", "the server answered the login without an access token");
  const issued = await postJSON(http + "/api/v1/users/generate-api-key", { email: email.trim() }, { Authorization: "Bearer " + token });
  const key = String(issued.api_key ?? "");
  if (!key) throw new HapaError("E5004", "the server issued no API key");
  await secrets.store(SECRET_KEY, key);
  return key;
}

/** setApiKey stores a key the user pastes (e.g. from `hapa keys create`). */
export async function setApiKey(secrets: vscode.SecretStorage): Promise<string | undefined> {
  const key = await vscode.window.showInputBox({
    title: "HAPA: API Key", prompt: "Paste a HAPA API key (hapa_…)", password: true, ignoreFocusOut: true,
    validateInput: (v) => (/^\S{8,}$/.test(v.trim()) ? undefined : "Enter the key"),
  });
  if (!key) return undefined;
  await secrets.store(SECRET_KEY, key.trim());
  return key.trim();
}
