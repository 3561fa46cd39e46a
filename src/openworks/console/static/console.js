// openworks console: refresh the parts of a page marked data-live in place.
// Polls every second while data-pending="true"; otherwise every data-idle milliseconds
// (0: stop). The server answers {"html": ..., "pending": ...} for the same filters.
(function () {
  "use strict";
  var FAST = 1000;

  function say(text) {
    var region = document.getElementById("live-status");
    if (region) { region.textContent = text; }
  }

  function schedule(el) {
    var pending = el.getAttribute("data-pending") === "true";
    var idle = parseInt(el.getAttribute("data-idle") || "0", 10);
    var delay = pending ? FAST : idle;
    if (delay > 0) { window.setTimeout(function () { poll(el); }, delay); }
  }

  function poll(el) {
    fetch(el.getAttribute("data-live"), {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).then(function (data) {
      var was = el.getAttribute("data-pending") === "true";
      if (was && !data.pending && el.hasAttribute("data-reload-when-final")) {
        window.location.reload();
        return;
      }
      if (el.innerHTML.trim() !== data.html.trim()) {
        el.innerHTML = data.html;
        say("Updated " + new Date().toLocaleTimeString() + ".");
      }
      el.setAttribute("data-pending", data.pending ? "true" : "false");
      schedule(el);
    }).catch(function () {
      say("Live refresh paused; reload the page to resume.");
    });
  }

  document.querySelectorAll("[data-live]").forEach(schedule);
})();
