/*
 * A message's attachments (docs/frontend.md, "Attachments"), the same DOM as the server's
 * includes/attachments.html: images as thumbnails (links to the file; viewer.js opens
 * them in place), other files as cards with a download link; a PDF opens in a new tab.
 * File names are the uploader's, hostile: text and attribute values only.
 */

import { format, t } from "./i18n.js";
import { config, icon } from "./page.js";

/** The units of a size, translated (domain/file_labels.py size_units). */
function units() {
  return { B: t("sizeB"), KB: t("sizeKB"), MB: t("sizeMB"), GB: t("sizeGB") };
}

/** `size` bytes as people read it, as the server writes it (domain/file_labels.py
    file_size): powers of 1024, at most one decimal rounded half up. */
export function fileSize(size) {
  let value = Math.max(0, Number(size) || 0);
  let unit = "B";
  for (const name of ["KB", "MB", "GB"]) {
    if (value < 1024) {
      break;
    }
    value /= 1024;
    unit = name;
  }
  const number = new Intl.NumberFormat(config.locale, { maximumFractionDigits: 1, useGrouping: false }).format(value);
  return format(units()[unit], { size: number });
}

/** The icon class and label of a content type (domain/file_labels.py file_type). */
export function fileType(contentType) {
  const known = (config.fileTypes || {})[contentType];
  if (known) {
    return { icon: known[0], label: known[1] };
  }
  return { icon: "bi-file-earmark", label: String(contentType).split("/").pop().toUpperCase().slice(0, 12) };
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text != null) {
    node.textContent = text;
  }
  return node;
}

function imageTile(attachment, alt) {
  const link = element("a", "scc-thumb");
  link.href = attachment.url;
  link.setAttribute("data-preview", attachment.preview_url || attachment.url);
  link.setAttribute("data-download", attachment.download_url);
  link.title = attachment.name;
  const img = element("img");
  img.src = attachment.thumbnail_url || attachment.url; // a small image has no thumbnail
  if (attachment.width && attachment.height) {
    img.width = attachment.width;
    img.height = attachment.height;
  }
  img.alt = alt || attachment.name;
  img.loading = "lazy";
  link.appendChild(img);
  return link;
}

function fileCard(attachment) {
  const type = fileType(attachment.content_type);
  const body = element("span", "scc-file-body");
  const name = element("a", "scc-file-name", attachment.name);
  name.title = attachment.name;
  if (attachment.content_type === "application/pdf") {
    name.href = attachment.url;
    name.target = "_blank";
    name.rel = "noopener";
  } else {
    name.href = attachment.download_url;
  }
  body.append(name, element("span", "scc-file-meta", fileSize(attachment.size) + " · " + type.label));
  const download = element("a", "scc-file-download");
  download.href = attachment.download_url;
  const label = format(t("downloadFile"), { name: attachment.name });
  download.title = label;
  download.setAttribute("aria-label", label);
  download.appendChild(icon("bi-download"));
  return [icon(type.icon + " scc-file-icon"), body, download];
}

/** One attachment's <li>; `alt`: the text of an image (the caption, else its name). */
export function attachmentItem(attachment, alt) {
  const item = element("li");
  const image = attachment.kind === "image";
  item.className = "scc-attachment " + (image ? "scc-attachment-image" : "scc-file");
  item.setAttribute("data-attachment-id", String(attachment.id));
  if (image) {
    item.appendChild(imageTile(attachment, alt));
  } else {
    item.append(...fileCard(attachment));
  }
  return item;
}

/** Show `attachments` (AttachmentData, in order) in message `node`; `caption`: the
    message's text, the images' alt text (their names without one). */
export function showAttachments(node, attachments, caption) {
  const box = node.querySelector(".scc-attachments");
  if (!box) {
    return;
  }
  const items = attachments || [];
  box.replaceChildren(
    ...items.map(function (attachment) {
      return attachmentItem(attachment, caption);
    })
  );
  box.hidden = items.length === 0;
}
