/*
 * The page the client enhances: its configuration and DOM lookups.
 *
 * `config` is the JSON of <script id="scc-config" type="application/json">, built by the
 * server (smartcampus_chat.web.page_config.client_config). It is the ONLY source of what the client
 * needs from the server: URLs, translated strings, timings. Every key read here is sent
 * there (tests/test_client_js.py checks both ways): no fallback is typed in the client.
 */

const configNode = document.getElementById("scc-config");

/** True on a chat page (one with #scc-config): the entry does nothing elsewhere. */
export const hasConfig = !!configNode;

export const config = configNode ? JSON.parse(configNode.textContent || "{}") : {};

/** The open room (a live binding: it changes when the shell switches rooms), null when
    the main pane shows no conversation. */
export let roomSlug = config.room || null;

/** The main pane now shows `paneConfig` (the JSON of its #scc-pane-config): its keys
    replace the room's in `config`, and roomSlug follows. Only router.js calls this. */
export function setPane(paneConfig) {
  Object.assign(config, paneConfig);
  roomSlug = config.room || null;
}

export function $(selector, root) {
  return (root || document).querySelector(selector);
}

export function $$(selector, root) {
  return Array.prototype.slice.call((root || document).querySelectorAll(selector));
}

/** Whether a user reference is the reader. */
export function isMe(user) {
  return !!user && String(user.id) === String(config.userId);
}

/** A Bootstrap icon (`bi-…` class `name`, more classes after it), hidden from screen
    readers: what it means is said by its button or by the text beside it. */
export function icon(name) {
  const span = document.createElement("span");
  span.className = "bi " + name;
  span.setAttribute("aria-hidden", "true");
  return span;
}

/** A small button showing icon `iconName` and named `label` (its aria-label and title). */
export function iconButton(className, iconName, label, onClick) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn btn-sm " + className;
  button.title = label;
  button.setAttribute("aria-label", label);
  button.appendChild(icon(iconName));
  button.addEventListener("click", onClick);
  return button;
}

/** A <span> of class `className` holding `text` as text. */
export function textSpan(className, text) {
  const span = document.createElement("span");
  span.className = className;
  span.textContent = text;
  return span;
}
