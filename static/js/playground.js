// HAPA admin playground: sends one generation or completion over the hapa.v1
// WebSocket (static/js/hapa-realtime.js) and shows the tokens as they stream.
(function () {
  "use strict";
  var form = document.getElementById("pg-form");
  if (!form) return;
  if (!window.HapaRealtime) {
    document.getElementById("pg-status").textContent = "The WebSocket client (hapa-realtime.js) did not load.";
    return;
  }
  var out = document.getElementById("pg-output");
  var status = document.getElementById("pg-status");
  var meta = document.getElementById("pg-meta");
  var send = document.getElementById("pg-send");
  var cancel = document.getElementById("pg-cancel");
  var current = null;

  function kind() { return form.querySelector("input[name=kind]:checked").value; }
  function showKind() {
    form.querySelectorAll("[data-kind]").forEach(function (el) {
      el.hidden = el.getAttribute("data-kind") !== kind();
    });
  }
  form.querySelectorAll("input[name=kind]").forEach(function (r) { r.addEventListener("change", showKind); });
  showKind();

  function setStatus(text) { status.textContent = text; }
  function finish(text) {
    current = null;
    send.disabled = false;
    cancel.disabled = true;
    setStatus(text);
  }

  function onEvent(ev) {
    switch (ev.type) {
      case "session.created":
        send.disabled = false;
        setStatus("Connected (" + ev.protocol + ", server " + ev.server_version + "). Ready.");
        break;
      case "stream.started":
        if (ev.id !== current) return;
        setStatus("Streaming from " + ev.model + (ev.cached ? " (cached)" : "") + (ev.coalesced ? " (coalesced)" : "") + "…");
        break;
      case "stream.delta":
        if (ev.id !== current) return;
        out.textContent += ev.text;
        break;
      case "stream.done":
        if (ev.id !== current) return;
        var u = ev.usage || {};
        meta.textContent = "finish: " + ev.finish_reason + " · tokens " + (u.prompt_tokens || 0) + " in / " +
          (u.completion_tokens || 0) + " out · first token " + Math.round(ev.ttft_ms || 0) + " ms · total " +
          Math.round(ev.latency_ms || 0) + " ms" + (ev.cached ? " · cached" : "");
        finish(ev.finish_reason === "cancelled" ? "Cancelled." : "Done.");
        break;
      case "stream.error":
        if (ev.id !== current) return;
        var e = ev.error || {};
        meta.textContent = (e.code || "error") + ": " + (e.message || "") + (e.incident_id ? " (incident " + e.incident_id + ")" : "");
        finish("Failed.");
        break;
      case "error":
        setStatus("Rejected: " + ((ev.error && ev.error.message) || "bad request"));
        if (current) finish("Failed.");
        break;
      case "session.closing":
      case "close":
        send.disabled = true;
        setStatus("Disconnected" + (ev.reason ? ": " + ev.reason : "") + ". Reload the page to reconnect.");
        break;
    }
  }

  var rt = new window.HapaRealtime({ url: form.getAttribute("data-endpoint"), key: form.getAttribute("data-key"), onEvent: onEvent });
  Promise.resolve(rt.connect()).catch(function (err) {
    setStatus("Could not connect: " + (err && err.message ? err.message : err));
  });

  function num(name) {
    var v = form.elements[name].value;
    return v === "" ? undefined : Number(v);
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (current) return;
    out.textContent = "";
    meta.textContent = "";
    var params = { temperature: num("temperature"), max_tokens: num("max_tokens") };
    var p;
    if (kind() === "generation") {
      params.prompt = form.elements.prompt.value;
      params.model_type = form.elements.model_type.value;
      params.profile = {
        pythonSkillLevel: form.elements.pythonSkillLevel.value,
        codeOutputStructure: form.elements.codeOutputStructure.value,
        explanationStyle: form.elements.explanationStyle.value,
        projectContext: form.elements.projectContext.value,
        errorHandlingPreference: form.elements.errorHandlingPreference.value
      };
      p = rt.generate(params);
    } else {
      params.prefix = form.elements.prefix.value;
      params.suffix = form.elements.suffix.value;
      p = rt.complete(params);
    }
    send.disabled = true;
    cancel.disabled = false;
    setStatus("Sent…");
    Promise.resolve(p).then(function (id) { current = typeof id === "object" && id ? id.id : id; });
  });
  cancel.addEventListener("click", function () { if (current) rt.cancel(current); });
  window.addEventListener("pagehide", function () { rt.close(); });
})();
