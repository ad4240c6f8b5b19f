/*
 * Attaching files in the composer (docs/frontend.md, "Attachments"): the attach button,
 * a drop on the conversation (dropzone.js), an image pasted in the text box. Each file is
 * uploaded at once (upload.js) and shows as a chip over the text box: name, size, a
 * thumbnail for an image, its progress, the server's error with Retry, and a button that
 * cancels the upload (or withdraws it once done).
 * The message goes out only when all its uploads are done (composer.js asks
 * takeAttachments()): until then Send says why it waits. Uploads are kept per room for the
 * page's life, so switching rooms loses none.
 */

import { on } from "./bus.js";
import { bindDrop } from "./dropzone.js";
import { fileSize, fileType } from "./files.js";
import { announce, format, t } from "./i18n.js";
import { $, config, icon, iconButton, roomSlug, textSpan } from "./page.js";
import { uploadFile, withdrawUpload } from "./upload.js";

// slug -> the uploads of that room's next message, in the order they were added.
const uploads = {};
let composer = null;
let chips = null;
let problem = null;
let sendButton = null;
let textBox = null;
let textRequired = false; // the text box's own `required`, dropped while files are attached

function entriesOf(slug) {
  return uploads[slug] || (uploads[slug] = []);
}

/* Upload `entry`'s file (again, for a retry); its chip follows. */
function upload(entry) {
  entry.status = "uploading";
  entry.error = "";
  entry.progress = 0;
  const request = uploadFile(entry.slug, entry.file, {
    progress: function (percent) {
      entry.progress = percent;
      const bar = entry.node && $("progress", entry.node);
      if (bar) {
        bar.value = percent;
      }
    },
    done: function (attachment) {
      entry.request = null;
      entry.status = "done";
      entry.data = attachment;
      refresh(entry);
    },
    failed: function (message) {
      entry.request = null;
      entry.status = "error";
      entry.error = message;
      announce(entry.file.name + ": " + message);
      refresh(entry);
    },
  });
  entry.request = request;
}

/* The reason a file is refused before it is sent, as the server would say it; "" if none. */
function precheck(file) {
  if (file.size > config.attachmentMaxBytes) {
    return t("fileTooLarge");
  }
  return "";
}

/** Attach `files` (a FileList or an array) to the open room's next message. */
export function addFiles(files) {
  if (!config.uploadUrl || !roomSlug || !chips) {
    return;
  }
  const list = entriesOf(roomSlug);
  let refused = 0;
  Array.prototype.forEach.call(files, function (file) {
    if (list.length >= config.attachmentsPerMessage) {
      refused += 1;
      return;
    }
    const entry = { slug: roomSlug, file: file, status: "error", error: precheck(file) };
    entry.final = !!entry.error; // refused here: retrying would not change the answer
    if (file.type && file.type.indexOf("image/") === 0 && window.URL && URL.createObjectURL) {
      entry.preview = URL.createObjectURL(file);
    }
    list.push(entry);
    chips.appendChild(chip(entry));
    if (!entry.error) {
      upload(entry);
    }
    refresh(entry);
  });
  problem.textContent = refused ? t("tooManyFiles") : "";
  problem.hidden = !refused;
  if (refused) {
    announce(problem.textContent);
  }
  update();
}

function forget(entry) {
  const list = entriesOf(entry.slug);
  const index = list.indexOf(entry);
  if (index >= 0) {
    list.splice(index, 1);
  }
  if (entry.preview) {
    URL.revokeObjectURL(entry.preview);
  }
  if (entry.node) {
    entry.node.remove();
  }
}

/* Remove an upload: cancelled while it runs, withdrawn from the server once done. */
function remove(entry) {
  if (entry.request) {
    entry.request.abort();
    entry.request = null;
  } else if (entry.status === "done" && entry.data) {
    withdrawUpload(entry.data.id);
  }
  const next = entry.node && entry.node.nextElementSibling;
  forget(entry);
  problem.hidden = true;
  update();
  const target = (next && $(".scc-upload-remove", next)) || (composer && $("textarea[name=content]", composer));
  if (target) {
    target.focus();
  }
}

function chip(entry) {
  const node = document.createElement("li");
  node.className = "scc-upload";
  entry.node = node;
  return node;
}

/* Draw `entry`'s chip as its state says. */
function refresh(entry) {
  const node = entry.node;
  if (!node) {
    return;
  }
  const name = entry.file.name;
  const hadFocus = node.contains(document.activeElement);
  node.classList.toggle("scc-upload-done", entry.status === "done");
  node.classList.toggle("scc-upload-error", entry.status === "error");
  let picture;
  if (entry.preview) {
    picture = document.createElement("img");
    picture.className = "scc-upload-thumb";
    picture.src = entry.preview;
    picture.alt = "";
  } else {
    picture = icon(fileType(entry.file.type).icon + " scc-upload-icon");
  }
  const body = textSpan("scc-upload-body", "");
  const title = textSpan("scc-upload-name", name);
  title.title = name;
  body.append(title, textSpan("scc-upload-size", fileSize(entry.file.size)));
  if (entry.status === "uploading") {
    const bar = document.createElement("progress");
    bar.className = "scc-upload-progress";
    bar.max = 100;
    bar.value = entry.progress || 0;
    bar.setAttribute("aria-label", format(t("uploading"), { name: name }));
    body.appendChild(bar);
  } else if (entry.status === "error") {
    body.appendChild(textSpan("scc-upload-error-text", entry.error));
  }
  const buttons = [];
  if (entry.status === "error" && !entry.final) {
    buttons.push(
      iconButton("scc-upload-retry", "bi-arrow-clockwise", format(t("retryUpload"), { name: name }), function () {
        upload(entry);
        refresh(entry);
        update();
      })
    );
  }
  const removeLabel = entry.status === "uploading" ? t("cancelUpload") : t("removeFile");
  buttons.push(
    iconButton("scc-upload-remove", "bi-x-lg", format(removeLabel, { name: name }), function () {
      remove(entry);
    })
  );
  node.replaceChildren(picture, body, ...buttons);
  if (hadFocus) {
    $(".scc-upload-retry, .scc-upload-remove", node).focus();
  }
  update();
}

/* Show the chips of the open room, and whether Send waits. */
function update() {
  if (!chips) {
    return;
  }
  const list = roomSlug ? entriesOf(roomSlug) : [];
  chips.hidden = list.length === 0;
  const waiting = list.some(function (entry) {
    return entry.status !== "done";
  });
  if (textBox) {
    textBox.required = textRequired && list.length === 0; // files alone may be sent
  }
  if (sendButton) {
    sendButton.setAttribute("aria-disabled", String(waiting));
    sendButton.classList.toggle("scc-send-waiting", waiting);
  }
}

/** The attachments of the message being sent (AttachmentData, in order), taken from the
    composer; null when it must wait (an upload running or failed: said why). */
export function takeAttachments() {
  const list = roomSlug && chips ? entriesOf(roomSlug) : [];
  const running = list.some((entry) => entry.status === "uploading");
  const failed = list.some((entry) => entry.status === "error");
  if (running || failed) {
    problem.textContent = running ? t("waitForUploads") : t("uploadsFailed");
    problem.hidden = false;
    announce(problem.textContent);
    return null;
  }
  const data = list.map((entry) => entry.data);
  list.slice().forEach(forget);
  if (problem) {
    problem.hidden = true;
  }
  update();
  return data;
}

/* Bind the pane's composer: its own file picker replaces the no-JS file field. */
function bind() {
  composer = $("#composer");
  chips = null;
  const row = composer && $(".scc-composer-row", composer);
  if (!row || !config.uploadUrl) {
    return;
  }
  const plain = $(".scc-attach-nojs", composer);
  if (plain) {
    plain.remove();
  }
  const textarea = $("textarea[name=content]", composer);
  textBox = textarea;
  textRequired = !!(textarea && textarea.required);
  sendButton = $(".scc-send", composer);
  const input = document.createElement("input");
  input.type = "file";
  input.multiple = true;
  input.hidden = true;
  input.className = "scc-file-input";
  input.accept = (config.attachmentTypes || []).join(",");
  input.addEventListener("change", function () {
    addFiles(input.files);
    input.value = "";
  });
  const attach = iconButton("scc-attach", "bi-paperclip", t("attachFiles"), function () {
    input.click();
  });
  // After the text box: from the text box, Shift+Tab still goes back to the messages.
  row.insertBefore(attach, sendButton);
  row.appendChild(input);
  chips = document.createElement("ul");
  chips.className = "list-unstyled scc-uploads";
  chips.setAttribute("aria-label", t("filesToSend"));
  problem = textSpan("scc-upload-problem small", "");
  problem.setAttribute("role", "alert");
  problem.hidden = true;
  composer.insertBefore(problem, row);
  composer.insertBefore(chips, problem);
  entriesOf(roomSlug).forEach(function (entry) {
    chips.appendChild(chip(entry));
    refresh(entry);
  });
  update();
  if (textarea) {
    textarea.addEventListener("paste", function (event) {
      const files = event.clipboardData ? event.clipboardData.files : null;
      if (files && files.length) {
        event.preventDefault();
        addFiles(files);
      }
    });
  }
  const conversation = composer.closest(".scc-conversation");
  if (conversation && textarea) {
    bindDrop(conversation, () => !textarea.disabled, addFiles);
  }
}

export function init() {
  on("room:open", bind);
  bind();
}
