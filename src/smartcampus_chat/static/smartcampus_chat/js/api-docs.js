// Starts Redoc on the API docs page without inline script: the schema URL comes from the
// container's data attribute, and Redoc's injected styles carry this script's CSP nonce.
"use strict";

(function startRedoc() {
  const container = document.getElementById("redoc-container");
  const nonce = document.currentScript ? document.currentScript.nonce : undefined;
  window.Redoc.init(container.dataset.schemaUrl, { nonce: nonce }, container);
})();
