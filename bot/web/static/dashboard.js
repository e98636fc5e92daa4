// Live updates without reloading: every few seconds ask whether anything on this page
// changed (a message, an alert, a reply's delivery); if so, fetch the page again and swap
// the parts marked data-live. The reply being typed is never touched.
(function () {
  "use strict";
  var EVERY_MS = 4000;
  var participant = document.body.getAttribute("data-live-participant");
  if (participant === null) { return; }
  var url = document.body.getAttribute("data-live-url") ||
    "/dashboard/api/changes" + (participant ? "?participant=" + encodeURIComponent(participant) : "");
  var mark = document.body.getAttribute("data-mark");  // the state the page was made from

  function refresh() {
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Oprit-Live": "1" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live][id]").forEach(function (part) {
          var next = fresh.getElementById(part.id);
          if (next) { part.replaceWith(document.importNode(next, true)); }
        });
        var status = document.getElementById("live-status");
        if (status) { status.textContent = new Date().toLocaleTimeString(); }
      });
  }

  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 401) { window.location.assign("/dashboard/login"); return null; }
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (!data) { return; }
        if (data.mark !== mark) { refresh(); }
        mark = data.mark;
      })
      .catch(function () { /* offline for a moment: try again at the next round */ })
      .then(function () { window.setTimeout(poll, EVERY_MS); });
  }
  poll();
}());
