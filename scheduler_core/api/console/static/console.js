// The console's few behaviours beyond htmx: countdowns, copy buttons, select-all, dismissing messages, and
// opening the history entry a link points at. No inline scripts (the pages' CSP allows only this file and htmx).
(function () {
  "use strict";

  // Polling (htmx trigger filters) refreshes a region only while the tab is visible, and never while the operator
  // is working in it: jobs selected, a history message open, or the keyboard focus inside (a swap would lose it).
  window.consoleMayRefresh = function (id) {
    var region = document.getElementById(id);
    if (document.visibilityState !== "visible" || !region) return false;
    if (region.querySelector("input[name=names]:checked, details[open]")) return false;
    var focused = document.activeElement;
    return !(focused && focused !== document.body && region.contains(focused));
  };

  function relative(iso) {
    var seconds = (Date.parse(iso) - Date.now()) / 1000;
    var span = Math.abs(seconds), text;
    if (span < 60) text = Math.floor(span) + " s";
    else if (span < 3600) text = Math.floor(span / 60) + " min";
    else if (span < 172800) text = (Math.round(span / 360) / 10) + " h";
    else text = Math.floor(span / 86400) + " days";
    return seconds >= 0 ? "in " + text : text + " ago";
  }

  function tick() {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      el.textContent = relative(el.getAttribute("data-countdown"));
    });
  }

  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var row = id && document.getElementById(id);
    if (row) {
      var details = row.querySelector("details");
      if (details) details.open = true;
      row.classList.add("target");
    }
  }

  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-copy], [data-dismiss], [data-select-all]");
    if (!el) return;
    if (el.hasAttribute("data-copy")) {
      var source = document.getElementById(el.getAttribute("data-copy"));
      var text = source ? source.textContent : "";
      var done = function () { el.textContent = "Copied"; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { select(source); });
      } else {
        select(source);
      }
    } else if (el.hasAttribute("data-dismiss")) {
      var flash = el.closest(".flash");
      if (flash) flash.remove();
    } else if (el.hasAttribute("data-select-all")) {
      var table = el.closest("table");
      table.querySelectorAll("input[name=names]").forEach(function (box) { box.checked = el.checked; });
    }
  });

  function select(node) {
    if (!node) return;
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  document.addEventListener("DOMContentLoaded", function () { tick(); openTarget(); });
  window.addEventListener("hashchange", openTarget);
  document.addEventListener("htmx:afterSettle", tick);
  setInterval(function () { if (document.visibilityState === "visible") tick(); }, 1000);
})();
