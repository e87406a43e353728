// A stand-in for the `vscode` module, enough for the extension's tests to run under
// plain Node (node --test, NODE_PATH pointing here): the parts of the API the
// extension uses, with an in-memory editor, settings, secrets and scripted prompts.
// `__test` is the tests' handle on it. No real VS Code is downloaded or started.
"use strict";

class Disposable {
  constructor(fn) { this._fn = fn; }
  static from(...ds) { return new Disposable(() => ds.forEach((d) => d?.dispose?.())); }
  dispose() { const f = this._fn; this._fn = null; f?.(); }
}

class EventEmitter {
  constructor() {
    this._listeners = new Set();
    this.event = (fn) => { this._listeners.add(fn); return new Disposable(() => this._listeners.delete(fn)); };
  }
  fire(v) { for (const fn of [...this._listeners]) fn(v); }
  dispose() { this._listeners.clear(); }
}

class Position {
  constructor(line, character) { this.line = line; this.character = character; }
  isBefore(o) { return this.line < o.line || (this.line === o.line && this.character < o.character); }
  isEqual(o) { return this.line === o.line && this.character === o.character; }
  isAfter(o) { return !this.isBefore(o) && !this.isEqual(o); }
}

class Range {
  constructor(a, b, c, d) {
    if (typeof a === "number") { a = new Position(a, b); b = new Position(c, d); }
    [this.start, this.end] = b.isBefore(a) ? [b, a] : [a, b];
  }
  get isEmpty() { return this.start.isEqual(this.end); }
  intersection(o) {
    const start = this.start.isBefore(o.start) ? o.start : this.start;
    const end = this.end.isBefore(o.end) ? this.end : o.end;
    return start.isAfter(end) ? undefined : new Range(start, end);
  }
}

class Selection extends Range {
  constructor(anchor, active) { super(anchor, active); this.anchor = anchor; this.active = active; }
}

class InlineCompletionItem {
  constructor(insertText, range, command) { this.insertText = insertText; this.range = range; this.command = command; }
}

class CancellationTokenSource {
  constructor() {
    const emitter = new EventEmitter();
    this._emitter = emitter;
    this.token = { isCancellationRequested: false, onCancellationRequested: emitter.event };
  }
  cancel() { if (!this.token.isCancellationRequested) { this.token.isCancellationRequested = true; this._emitter.fire(); } }
  dispose() { this._emitter.dispose(); }
}

class ThemeColor { constructor(id) { this.id = id; } }

class Uri {
  constructor(path) { this.scheme = "file"; this.path = path; this.fsPath = path; }
  static file(p) { return new Uri(p); }
  toString() { return "file://" + this.path; }
}

const StatusBarAlignment = { Left: 1, Right: 2 };
const ViewColumn = { Active: -1, Beside: -2, One: 1, Two: 2 };
const ConfigurationTarget = { Global: 1, Workspace: 2, WorkspaceFolder: 3 };
const InlineCompletionTriggerKind = { Invoke: 0, Automatic: 1 };

// ---- state the tests drive ------------------------------------------------------

const state = {
  settings: {},            // "hapa.serverUrl" → value
  inputs: [],              // answers of showInputBox, in order
  inputPrompts: [],        // the options showInputBox was called with
  messages: [],            // [level, text]
  commands: new Map(),
  providers: [],
  statusItems: [],
  panels: [],
  diagnostics: [],
  activeTextEditor: undefined,
  configEmitter: new EventEmitter(),
  telemetry: true,
  clipboard: "",
};

function createDocument(text, languageId = "python", path = "/work/project/main.py") {
  const doc = {
    uri: Uri.file(path), languageId, fileName: path, version: 1, _text: text,
    get lineCount() { return this._text.split("\n").length; },
    getText(range) {
      if (!range) return this._text;
      return this._text.slice(this.offsetAt(range.start), this.offsetAt(range.end));
    },
    offsetAt(pos) {
      const lines = this._text.split("\n");
      let off = 0;
      for (let i = 0; i < Math.min(pos.line, lines.length); i++) off += lines[i].length + 1;
      return Math.min(this._text.length, off + Math.min(pos.character, (lines[pos.line] ?? "").length));
    },
    positionAt(offset) {
      const before = this._text.slice(0, Math.max(0, offset)).split("\n");
      return new Position(before.length - 1, before[before.length - 1].length);
    },
    lineAt(line) {
      const l = typeof line === "number" ? line : line.line;
      const t = this._text.split("\n")[l] ?? "";
      return { lineNumber: l, text: t, range: new Range(l, 0, l, t.length), isEmptyOrWhitespace: t.trim() === "" };
    },
    /** test helper: type text at the end of the document. */
    append(s) { this._text += s; this.version++; },
  };
  return doc;
}

function createEditor(doc, anchor, active) {
  const a = anchor ?? doc.positionAt(doc.getText().length);
  return { document: doc, selection: new Selection(a, active ?? a) };
}

function createSecrets() {
  const data = new Map();
  const emitter = new EventEmitter();
  return {
    _data: data,
    get: async (k) => data.get(k),
    store: async (k, v) => { data.set(k, v); emitter.fire({ key: k }); },
    delete: async (k) => { data.delete(k); emitter.fire({ key: k }); },
    onDidChange: emitter.event,
  };
}

function createContext() {
  return { subscriptions: [], secrets: createSecrets(), extensionUri: Uri.file("/ext"), globalState: new Map() };
}

function reset() {
  state.settings = {};
  state.inputs = [];
  state.inputPrompts = [];
  state.messages = [];
  state.commands = new Map();
  state.providers = [];
  state.statusItems = [];
  state.panels = [];
  state.diagnostics = [];
  state.activeTextEditor = undefined;
  state.configEmitter = new EventEmitter();
  state.telemetry = true;
}

// ---- API ------------------------------------------------------------------------

const workspace = {
  get workspaceFolders() { return [{ uri: Uri.file("/work/project"), name: "project", index: 0 }]; },
  getConfiguration(section) {
    const full = (k) => (section ? section + "." + k : k);
    return {
      get: (k, dflt) => (full(k) in state.settings ? state.settings[full(k)] : dflt),
      has: (k) => full(k) in state.settings,
      update: async (k, v) => {
        state.settings[full(k)] = v;
        state.configEmitter.fire({ affectsConfiguration: (s) => full(k) === s || full(k).startsWith(s + ".") });
      },
    };
  },
  onDidChangeConfiguration: (fn) => state.configEmitter.event(fn),
  asRelativePath(uri) {
    const p = typeof uri === "string" ? uri : uri.fsPath;
    return p.startsWith("/work/project/") ? p.slice("/work/project/".length) : p;
  },
};

const window = {
  get activeTextEditor() { return state.activeTextEditor; },
  createOutputChannel: (name) => ({ name, lines: [], appendLine(l) { this.lines.push(l); }, append() {}, show() {}, dispose() {} }),
  createStatusBarItem(alignment, priority) {
    const item = { alignment, priority, text: "", tooltip: "", command: undefined, name: "", backgroundColor: undefined,
      visible: false, show() { this.visible = true; }, hide() { this.visible = false; }, dispose() { this.visible = false; } };
    state.statusItems.push(item);
    return item;
  },
  createWebviewPanel(viewType, title) {
    const received = new EventEmitter();
    const disposed = new EventEmitter();
    const panel = {
      viewType, title, visible: true, posted: [],
      webview: {
        html: "",
        postMessage: async (m) => { panel.posted.push(m); return true; },
        onDidReceiveMessage: received.event,
        cspSource: "vscode-webview:",
      },
      reveal() { this.visible = true; },
      onDidDispose: disposed.event,
      dispose() { if (!this._disposed) { this._disposed = true; disposed.fire(); } },
      /** test helper: the webview posts a message (a button click). */
      _receive(m) { received.fire(m); },
    };
    state.panels.push(panel);
    return panel;
  },
  async showInputBox(opts) {
    state.inputPrompts.push(opts);
    const v = state.inputs.shift();
    if (v !== undefined && opts?.validateInput) {
      const problem = opts.validateInput(v);
      if (problem) throw new Error(`stub: input ${JSON.stringify(v)} fails validation: ${problem}`);
    }
    return v;
  },
  showInformationMessage: async (m) => { state.messages.push(["info", m]); },
  showWarningMessage: async (m) => { state.messages.push(["warning", m]); },
  showErrorMessage: async (m) => { state.messages.push(["error", m]); },
};

const languages = {
  registerInlineCompletionItemProvider(selector, provider) {
    state.providers.push({ selector, provider });
    return new Disposable(() => { state.providers = state.providers.filter((p) => p.provider !== provider); });
  },
  getDiagnostics: () => state.diagnostics,
};

const commands = {
  registerCommand(id, fn) {
    if (state.commands.has(id)) throw new Error(`stub: command ${id} registered twice`);
    state.commands.set(id, fn);
    return new Disposable(() => state.commands.delete(id));
  },
  async executeCommand(id, ...args) {
    const fn = state.commands.get(id);
    if (!fn) throw new Error(`stub: command ${id} not found`);
    return fn(...args);
  },
};

const env = {
  get isTelemetryEnabled() { return state.telemetry; },
  clipboard: { writeText: async (t) => { state.clipboard = t; }, readText: async () => state.clipboard },
  appName: "Visual Studio Code (stub)",
};

module.exports = {
  version: "1.90.0-stub",
  Disposable, EventEmitter, Position, Range, Selection, InlineCompletionItem, CancellationTokenSource,
  ThemeColor, Uri, StatusBarAlignment, ViewColumn, ConfigurationTarget, InlineCompletionTriggerKind,
  workspace, window, languages, commands, env,
  __test: { state, reset, createDocument, createEditor, createSecrets, createContext },
};
