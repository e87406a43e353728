// The generation commands: what each sends (docs/editors.md).
import * as vscode from "vscode";
import type { GenerationParams } from "@hapa/client";

import { readSettings } from "./config";
import type { GenerationPanel } from "./panel";

const MAX_CONTEXT = 8000;

function editorCode(editor: vscode.TextEditor): { code: string; range: vscode.Range } {
  const sel = editor.selection;
  const range = sel.isEmpty ? editor.document.lineAt(sel.active.line).range : new vscode.Range(sel.start, sel.end);
  return { code: editor.document.getText(range).slice(0, MAX_CONTEXT), range };
}

/** language is sent only where the gateway takes it (python); other files let it default. */
function language(doc: vscode.TextDocument): string | undefined {
  return doc.languageId === "python" ? "python" : undefined;
}

export function explainParams(editor: vscode.TextEditor): GenerationParams | null {
  const { code } = editorCode(editor);
  if (!code.trim()) return null;
  return { prompt: "Explain what this code does, step by step.", context: code, model_type: "code_explanation",
    language: language(editor.document), max_tokens: readSettings().generationMaxTokens };
}

export function fixParams(editor: vscode.TextEditor): GenerationParams | null {
  const { code, range } = editorCode(editor);
  if (!code.trim()) return null;
  const problems = vscode.languages.getDiagnostics(editor.document.uri)
    .filter((d) => range.intersection(d.range) !== undefined)
    .slice(0, 20)
    .map((d) => `- line ${d.range.start.line - range.start.line + 1}: ${d.message}`);
  const prompt = "Fix the bugs in this code and return the corrected code." +
    (problems.length ? "\nProblems reported by the editor:\n" + problems.join("\n") : "");
  return { prompt, context: code, model_type: "bug_fix", language: language(editor.document), max_tokens: readSettings().generationMaxTokens };
}

export function testsParams(editor: vscode.TextEditor): GenerationParams | null {
  const { code } = editorCode(editor);
  if (!code.trim()) return null;
  return { prompt: "Write unit tests (pytest) for this code.", context: code, model_type: "unit_test_generation",
    language: language(editor.document), max_tokens: readSettings().generationMaxTokens };
}

const COMMENT = /^\s*(#|\/\/|--|;|\*|\/\*)\s?/;

/**
 * commentParams turns the comment at the cursor (the comment lines around it) into
 * a prompt; the code above is the context.
 */
export function commentParams(editor: vscode.TextEditor): GenerationParams | null {
  const doc = editor.document;
  let line = editor.selection.active.line;
  if (!COMMENT.test(doc.lineAt(line).text) && line > 0 && COMMENT.test(doc.lineAt(line - 1).text)) line--;
  if (!COMMENT.test(doc.lineAt(line).text)) return null;
  let first = line;
  let last = line;
  while (first > 0 && COMMENT.test(doc.lineAt(first - 1).text)) first--;
  while (last < doc.lineCount - 1 && COMMENT.test(doc.lineAt(last + 1).text)) last++;
  const lines: string[] = [];
  for (let i = first; i <= last; i++) lines.push(doc.lineAt(i).text.replace(COMMENT, "").replace(/\*\/\s*$/, "").trim());
  const prompt = lines.join("\n").trim();
  if (!prompt) return null;
  const before = doc.getText(new vscode.Range(new vscode.Position(0, 0), new vscode.Position(first, 0)));
  return { prompt, context: before.slice(-MAX_CONTEXT) || undefined, model_type: "code_generation",
    language: language(doc), max_tokens: readSettings().generationMaxTokens };
}

export const GENERATION_COMMANDS: Array<{ id: string; title: string; params: (e: vscode.TextEditor) => GenerationParams | null; empty: string }> = [
  { id: "hapa.explain", title: "HAPA: Explain", params: explainParams, empty: "Select the code to explain." },
  { id: "hapa.fix", title: "HAPA: Fix", params: fixParams, empty: "Select the code to fix." },
  { id: "hapa.writeTests", title: "HAPA: Tests", params: testsParams, empty: "Select the code to test." },
  { id: "hapa.generateFromComment", title: "HAPA: From comment", params: commentParams, empty: "Put the cursor on a comment that says what to write." },
];

export function registerGenerationCommands(panel: GenerationPanel): vscode.Disposable[] {
  return GENERATION_COMMANDS.map((c) => vscode.commands.registerCommand(c.id, async () => {
    const editor = vscode.window.activeTextEditor;
    if (!editor) return null;
    const params = c.params(editor);
    if (!params) {
      void vscode.window.showInformationMessage("HAPA: " + c.empty);
      return null;
    }
    return panel.run(c.title, params);
  }));
}
