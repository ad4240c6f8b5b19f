/*
 * Bootstrap 5.3 has no "auto" colour mode: resolve data-bs-theme="auto" on <html> to
 * "light" or "dark" following the system setting, and follow its changes. Loaded in <head>
 * (no inline script, so a strict CSP works); running it twice is harmless.
 */
(function () {
  "use strict";
  var root = document.documentElement;
  if (root.hasAttribute("data-scc-theme") || root.getAttribute("data-bs-theme") !== "auto") {
    return;
  }
  root.setAttribute("data-scc-theme", "auto");
  var query = window.matchMedia("(prefers-color-scheme: dark)");
  function apply() {
    root.setAttribute("data-bs-theme", query.matches ? "dark" : "light");
  }
  apply();
  if (query.addEventListener) {
    query.addEventListener("change", apply);
  }
})();
