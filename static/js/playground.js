// HAPA admin playground: sends one generation or completion over the hapa.v1
// WebSocket with the browser client (static/js/hapa-realtime.js, an ES module that the
// page's import map names "hapa-realtime") and shows the tokens as they stream.
import { HapaRealtime } from "hapa-realtime";

const form = document.getElementById("pg-form");
const out = document.getElementById("pg-output");
const status = document.getElementById("pg-status");
const meta = document.getElementById("pg-meta");
const send = document.getElementById("pg-send");
const cancel = document.getElementById("pg-cancel");
let current = null; // the stream in flight

const kind = () => form.querySelector("input[name=kind]:checked").value;
function showKind() {
  for (const el of form.querySelectorAll("[data-kind]")) el.hidden = el.dataset.kind !== kind();
}
for (const r of form.querySelectorAll("input[name=kind]")) r.addEventListener("change", showKind);
showKind();

const setStatus = (text) => { status.textContent = text; };
function finish(text) {
  current = null;
  send.disabled = false;
  cancel.disabled = true;
  setStatus(text);
}
function num(name) {
  const v = form.elements[name].value;
  return v === "" ? undefined : Number(v);
}

const rt = new HapaRealtime({
  url: form.dataset.endpoint,
  key: form.dataset.key,
  onClose: ({ code, reason, closing }) => {
    send.disabled = true;
    cancel.disabled = true;
    const why = closing ? closing.reason : reason;
    setStatus(`Disconnected (${code}${why ? ": " + why : ""}). Reload the page to reconnect.`);
  },
});
rt.connect().then(
  (s) => {
    send.disabled = false;
    setStatus(`Connected (${s.protocol}, server ${s.server_version}). Ready.`);
  },
  (err) => setStatus("Could not connect: " + err.message),
);

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  if (current) return;
  out.textContent = "";
  meta.textContent = "";
  const params = { temperature: num("temperature"), max_tokens: num("max_tokens") };
  let s;
  try {
    if (kind() === "generation") {
      params.prompt = form.elements.prompt.value;
      params.model_type = form.elements.model_type.value;
      params.profile = {};
      for (const f of ["pythonSkillLevel", "codeOutputStructure", "explanationStyle", "projectContext", "errorHandlingPreference"]) {
        params.profile[f] = form.elements[f].value;
      }
      s = rt.generate(params);
    } else {
      params.prefix = form.elements.prefix.value;
      params.suffix = form.elements.suffix.value;
      s = rt.complete(params);
    }
  } catch (err) {
    setStatus("Not sent: " + err.message);
    return;
  }
  current = s;
  send.disabled = true;
  cancel.disabled = false;
  setStatus("Sent…");
  s.onStarted = (f) => setStatus(`Streaming from ${f.model}${f.cached ? " (cached)" : ""}${f.coalesced ? " (coalesced)" : ""}…`);
  s.onDelta = (text) => { out.textContent += text; };
  s.onDone = (f) => {
    const u = f.usage || {};
    meta.textContent = `finish: ${f.finish_reason} · tokens ${u.prompt_tokens || 0} in / ${u.completion_tokens || 0} out` +
      ` · first token ${Math.round(f.ttft_ms || 0)} ms · total ${Math.round(f.latency_ms || 0)} ms${f.cached ? " · cached" : ""}`;
    finish(f.finish_reason === "cancelled" ? "Cancelled." : "Done.");
  };
  s.onError = (e) => {
    meta.textContent = `${e.code}: ${e.message || ""}${e.incident_id ? " (incident " + e.incident_id + ")" : ""}`;
    finish("Failed.");
  };
});
cancel.addEventListener("click", () => { if (current) current.cancel(); });
window.addEventListener("pagehide", () => rt.close());
