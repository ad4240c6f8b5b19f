/*
 * Files dropped on the conversation (attachments.js): while files are dragged over it, a
 * drop zone covers it and says so, also to screen readers. Drags of anything else (text,
 * links) are left to the browser.
 */

import { announce, t } from "./i18n.js";
import { textSpan } from "./page.js";

function hasFiles(event) {
  return !!event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types || [], "Files") >= 0;
}

/** Take the files dropped on `area` (`accepts()` false: drops are not taken now) and give
    them to `onFiles(files)`. */
export function bindDrop(area, accepts, onFiles) {
  const zone = textSpan("scc-dropzone", t("dropFiles"));
  zone.hidden = true;
  area.appendChild(zone);
  let depth = 0; // dragenter and dragleave of the area's children come in pairs
  function show(on) {
    if (zone.hidden === on) {
      zone.hidden = !on;
      if (on) {
        announce(t("dropFiles"));
      }
    }
  }
  area.addEventListener("dragenter", function (event) {
    if (hasFiles(event) && accepts()) {
      event.preventDefault();
      depth += 1;
      show(true);
    }
  });
  area.addEventListener("dragover", function (event) {
    if (hasFiles(event) && accepts()) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    }
  });
  area.addEventListener("dragleave", function (event) {
    if (hasFiles(event)) {
      depth = Math.max(0, depth - 1);
      show(depth > 0);
    }
  });
  area.addEventListener("drop", function (event) {
    if (hasFiles(event)) {
      event.preventDefault();
      depth = 0;
      show(false);
      if (accepts()) {
        onFiles(event.dataTransfer.files);
      }
    }
  });
}
