// HAPA admin console helpers. Loaded with the page's CSP nonce; no inline handlers.
// - <time datetime="RFC3339"> elements are rewritten in the viewer's locale and zone
//   (the server renders UTC text, which stays when JavaScript is off).
// - [data-copy="#id"] buttons copy the text of the element they name.
(function () {
  "use strict";
  var fmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  function localise(root) {
    root.querySelectorAll("time[datetime]:not([data-local])").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d.getTime())) return;
      el.title = el.textContent.trim();
      el.textContent = fmt.format(d);
      el.setAttribute("data-local", "1");
    });
  }
  function copy(btn) {
    var target = document.querySelector(btn.getAttribute("data-copy"));
    if (!target) return;
    var text = target.textContent.trim();
    var done = function () {
      var old = btn.textContent;
      btn.textContent = "Copied";
      var live = document.getElementById("copy-status");
      if (live) live.textContent = "Key copied to the clipboard.";
      setTimeout(function () { btn.textContent = old; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { select(target); });
    } else {
      select(target);
      try { document.execCommand("copy"); done(); } catch (e) { /* selected for manual copy */ }
    }
  }
  function select(el) {
    var r = document.createRange();
    r.selectNodeContents(el);
    var s = window.getSelection();
    s.removeAllRanges();
    s.addRange(r);
  }
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-copy]");
    if (btn) { ev.preventDefault(); copy(btn); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-copy]").forEach(function (b) { b.hidden = false; });
    localise(document);
  });
  // htmx swaps in fresh fragments (the overview refresh): localise them too.
  document.addEventListener("htmx:afterSwap", function (ev) { localise(ev.target); });
})();
