/*
 * The image viewer (docs/frontend.md, "Attachments"): a click on a thumbnail of the
 * conversation (a.scc-thumb, a plain link to the file without JavaScript) opens the image
 * at full size (its preview, else the file) in a modal <dialog>: the alt text as its
 * caption, "Image 2 of 5" announced, a download link. ← → go to the previous and next
 * image of the conversation, Esc closes, Tab stays inside, and the focus goes back to the
 * thumbnail it came from (or to the one it ended on).
 */

import { format, t } from "./i18n.js";
import { $, $$, icon, iconButton, textSpan } from "./page.js";

let viewer = null; // {dialog, image, caption, count, download, thumb}

function thumbs() {
  return $$("#message-list a.scc-thumb");
}

/* Show `thumb`'s image in the open viewer. */
function show(thumb) {
  const all = thumbs();
  const index = all.indexOf(thumb);
  const img = $("img", thumb);
  const alt = img ? img.alt : "";
  viewer.thumb = thumb;
  viewer.image.src = thumb.getAttribute("data-preview") || thumb.href;
  viewer.image.alt = alt;
  viewer.caption.textContent = alt;
  viewer.count.textContent = format(t("imageOf"), { index: index + 1, count: all.length });
  viewer.download.href = thumb.getAttribute("data-download") || thumb.href;
  viewer.prev.disabled = index <= 0;
  viewer.next.disabled = index < 0 || index >= all.length - 1;
}

function step(by) {
  const all = thumbs();
  const target = all[all.indexOf(viewer.thumb) + by];
  if (target) {
    show(target);
  }
}

/* Tab and Shift+Tab cycle inside the dialog. */
function trap(event) {
  const stops = $$("a[href], button:not([disabled])", viewer.dialog);
  if (!stops.length) {
    return;
  }
  const first = stops[0];
  const last = stops[stops.length - 1];
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}

function onKey(event) {
  if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
    event.preventDefault();
    step(event.key === "ArrowLeft" ? -1 : 1);
  } else if (event.key === "Tab") {
    trap(event);
  }
}

/** Open the viewer on thumbnail `thumb` (an a.scc-thumb). */
export function openViewer(thumb) {
  if (viewer) {
    viewer.dialog.close();
  }
  const dialog = document.createElement("dialog");
  dialog.className = "scc-dialog scc-viewer";
  dialog.setAttribute("aria-label", t("imageViewer"));
  const count = textSpan("scc-viewer-count", "");
  count.setAttribute("aria-live", "polite");
  const download = document.createElement("a");
  download.className = "btn btn-sm scc-viewer-download";
  download.append(icon("bi-download"), " ", t("download"));
  const close = iconButton("scc-viewer-close", "bi-x-lg", t("close"), function () {
    dialog.close();
  });
  const bar = document.createElement("div");
  bar.className = "scc-viewer-bar";
  bar.append(count, download, close);
  const figure = document.createElement("figure");
  figure.className = "scc-viewer-figure";
  const image = document.createElement("img");
  image.className = "scc-viewer-image";
  const caption = document.createElement("figcaption");
  caption.className = "scc-viewer-caption";
  const prev = iconButton("scc-viewer-prev", "bi-chevron-left", t("previousImage"), function () {
    step(-1);
  });
  const next = iconButton("scc-viewer-next", "bi-chevron-right", t("nextImage"), function () {
    step(1);
  });
  figure.append(prev, image, next, caption);
  dialog.append(bar, figure);
  dialog.addEventListener("keydown", onKey);
  dialog.addEventListener("close", function () {
    const back = viewer && viewer.dialog === dialog ? viewer.thumb : null;
    viewer = null;
    dialog.remove();
    if (back && back.isConnected) {
      back.focus();
    }
  });
  viewer = { dialog: dialog, image: image, caption: caption, count: count, download: download, prev: prev, next: next, thumb: thumb };
  show(thumb);
  (thumb.closest(".scc-room") || document.body).appendChild(dialog);
  dialog.showModal();
  close.focus();
}

export function init() {
  document.addEventListener("click", function (event) {
    const thumb = event.target.closest && event.target.closest("#message-list a.scc-thumb");
    if (!thumb || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();
    openViewer(thumb);
  });
}
