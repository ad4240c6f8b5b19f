/*
 * The HTTP side of attachments (attachments.js shows it): a file sent alone to the room's
 * upload URL with XMLHttpRequest (fetch reports no upload progress), the CSRF token of the
 * composer's form in X-CSRFToken as Django wants it, and an upload withdrawn (DELETE).
 */

import { t } from "./i18n.js";
import { $, config } from "./page.js";

function csrfToken() {
  const field = $("#composer input[name=csrfmiddlewaretoken]");
  return field ? field.value : "";
}

/* The server's error message (the API's {"error": {"message"}}), else a generic one. */
function serverError(xhr) {
  try {
    const body = JSON.parse(xhr.responseText);
    return (body && body.error && body.error.message) || t("uploadFailed");
  } catch (err) {
    return t("uploadFailed");
  }
}

/** Upload `file` into room `slug`: `on.progress(percent)`, then `on.done(attachment)` (the
    AttachmentData stored) or `on.failed(message)`. Returns the request: abort() cancels it,
    and nothing is called after that. */
export function uploadFile(slug, file, on) {
  const xhr = new XMLHttpRequest();
  let cancelled = false;
  xhr.open("POST", config.uploadUrl.replace("__slug__", encodeURIComponent(slug)));
  xhr.setRequestHeader("X-CSRFToken", csrfToken());
  xhr.setRequestHeader("Accept", "application/json");
  xhr.upload.addEventListener("progress", function (event) {
    if (event.lengthComputable && !cancelled) {
      on.progress(Math.round((event.loaded / event.total) * 100));
    }
  });
  xhr.addEventListener("load", function () {
    if (cancelled) {
      return;
    }
    if (xhr.status === 201) {
      on.done(JSON.parse(xhr.responseText));
    } else {
      on.failed(serverError(xhr));
    }
  });
  xhr.addEventListener("error", function () {
    if (!cancelled) {
      on.failed(t("uploadFailed"));
    }
  });
  const form = new FormData();
  form.append("file", file, file.name);
  xhr.send(form);
  return {
    abort: function () {
      cancelled = true;
      xhr.abort();
    },
  };
}

/** Withdraw upload `id` (stored, not sent): the server deletes it. */
export function withdrawUpload(id) {
  const xhr = new XMLHttpRequest();
  xhr.open("DELETE", config.attachmentUrl.replace(/\/0\/$/, "/" + String(Number(id)) + "/"));
  xhr.setRequestHeader("X-CSRFToken", csrfToken());
  xhr.send();
}
