/*
 * "Seen by": under the newest message each other member has read (and did not write), in
 * rooms where receipts are shown (config.receipts, null elsewhere: the room's setting, its
 * size, the reader's own preference). The server's page places them by the same rule;
 * frames keep them live: "receipt" (a marker moved) and a member's own message (sending
 * reads the room up to it).
 */

import { on } from "./bus.js";
import { format, t } from "./i18n.js";
import { $, $$, config, roomSlug } from "./page.js";

let readers = null; // Map of user id -> {name, seq}; null: no receipts in this room.

function load() {
  readers = null;
  if (Array.isArray(config.receipts)) {
    readers = new Map();
    config.receipts.forEach(function (reader) {
      readers.set(String(reader.id), { name: reader.name, seq: Number(reader.seq) });
    });
  }
}

function render() {
  const list = $("#message-list");
  if (!list || !readers) {
    return;
  }
  const messages = $$("li.scc-message[data-seq]:not(.scc-pending)", list);
  const placed = new Map();
  readers.forEach(function (reader, id) {
    let target = null;
    messages.forEach(function (node) {
      const seq = Number(node.getAttribute("data-seq"));
      if (seq && seq <= reader.seq && node.getAttribute("data-sender-id") !== id) {
        if (!target || seq > Number(target.getAttribute("data-seq"))) {
          target = node;
        }
      }
    });
    if (target) {
      placed.set(target, (placed.get(target) || []).concat([reader.name]));
    }
  });
  messages.forEach(function (node) {
    const line = $(".scc-receipts", node);
    if (!line) {
      return;
    }
    const names = placed.get(node);
    line.textContent = names ? format(t("seenBy"), { names: names.join(", ") }) : "";
    line.hidden = !names;
  });
}

function moved(id, name, seq) {
  const held = readers.get(id);
  if (held && held.seq >= seq) {
    return;
  }
  readers.set(id, { name: name, seq: seq });
  render();
}

/** "receipt": a member of the open room read up to `last_read_seq`. */
export function onReceipt(frame) {
  if (readers && frame.room === roomSlug) {
    moved(String(frame.user.id), frame.user.name, frame.last_read_seq);
  }
}

export function init() {
  load();
  on("room:open", function () {
    load();
    render();
  });
  on("message", function (detail) {
    const message = detail.message;
    if (!readers || message.room !== roomSlug) {
      return;
    }
    const sender = message.sender ? String(message.sender.id) : null;
    if (detail.type === "message.new" && sender && readers.has(sender)) {
      moved(sender, readers.get(sender).name, message.seq); // sending reads the room
    } else {
      render();
    }
  });
}
