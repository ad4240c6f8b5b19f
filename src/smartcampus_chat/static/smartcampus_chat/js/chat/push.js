/*
 * Web Push on this browser (docs/notifications.md, "Web Push"): subscribe and unsubscribe,
 * never on page load. The permission prompt only follows a click: `subscribe()` is meant
 * for a button's handler, and any `[data-scc-push-toggle]` button on the page is wired to
 * it as a toggle (`aria-pressed` says whether this browser receives push notifications;
 * the outcome is announced in #live-region).
 *
 * Config (web/page_config.py): `pushEnabled`, `pushPublicKey` (the VAPID key, the
 * applicationServerKey), `pushSubscriptionsUrl` (the REST endpoint) and `serviceWorkerUrl`
 * (at the chat's prefix, so the worker's scope is the chat's pages). The CSRF token is
 * the one of the button's form, of any form of the page, or Django's `csrftoken` cookie.
 *
 * Once a session, a browser already subscribed sends its subscription again (no prompt):
 * the server learns a renewed subscription, and a browser someone else signed in to
 * notifies the person using it.
 */

import { announce, t } from "./i18n.js";
import { $, $$, config } from "./page.js";

const SYNCED = "scc-push-synced";

/** Whether push can work here: the site sends it and the browser has the APIs. */
export function supported() {
  return !!(
    config.pushEnabled &&
    config.pushPublicKey &&
    "serviceWorker" in navigator &&
    "PushManager" in window &&
    "Notification" in window
  );
}

/* The CSRF token: of the button's form, of any form of the page, else Django's cookie. */
function csrfToken(element) {
  const form = element && element.closest ? element.closest("form") : null;
  const field = (form && $("input[name=csrfmiddlewaretoken]", form)) || $("input[name=csrfmiddlewaretoken]");
  if (field) {
    return field.value;
  }
  const cookie = document.cookie.split("; ").find(function (pair) {
    return pair.startsWith("csrftoken=");
  });
  return cookie ? decodeURIComponent(cookie.slice("csrftoken=".length)) : "";
}

/* The VAPID public key (base64url) as the bytes PushManager.subscribe() takes. */
function keyBytes(base64url) {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(base64 + "===".slice((base64.length + 3) % 4));
  return Uint8Array.from(raw, function (c) {
    return c.charCodeAt(0);
  });
}

function sameKey(buffer, base64url) {
  if (!buffer) {
    return false;
  }
  const a = new Uint8Array(buffer);
  const b = keyBytes(base64url);
  return a.length === b.length && a.every(function (byte, i) {
    return byte === b[i];
  });
}

class PushError extends Error {}

async function tell(method, body, token) {
  const response = await fetch(config.pushSubscriptionsUrl, {
    method: method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    let message = t("pushFailed");
    try {
      const error = (await response.json()).error;
      message = (error && error.message) || message;
    } catch (err) {
      // Not JSON: the generic message.
    }
    throw new PushError(message);
  }
}

async function registration() {
  return navigator.serviceWorker.getRegistration(config.serviceWorkerUrl);
}

/** This browser's push subscription, or null. */
export async function currentSubscription() {
  if (!supported()) {
    return null;
  }
  const found = await registration();
  return found ? found.pushManager.getSubscription() : null;
}

/** Subscribe this browser; call it from a click (it may ask the notification permission).
    `token`: the CSRF token. Resolves to the subscription; rejects with a message to show. */
export async function subscribe(token) {
  if (!supported()) {
    throw new PushError(t("pushUnsupported"));
  }
  if ((await Notification.requestPermission()) !== "granted") {
    throw new PushError(t("pushBlocked"));
  }
  await navigator.serviceWorker.register(config.serviceWorkerUrl);
  const ready = await navigator.serviceWorker.ready;
  let subscription = await ready.pushManager.getSubscription();
  if (subscription && !sameKey(subscription.options.applicationServerKey, config.pushPublicKey)) {
    // Made for another key (the site's keys changed): the push service would refuse it.
    await subscription.unsubscribe();
    subscription = null;
  }
  if (!subscription) {
    subscription = await ready.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: keyBytes(config.pushPublicKey),
    });
  }
  await tell("POST", subscription.toJSON(), token);
  return subscription;
}

/** Unsubscribe this browser (the server forgets it first, then the push service). */
export async function unsubscribe(token) {
  const subscription = await currentSubscription();
  if (!subscription) {
    return;
  }
  await tell("DELETE", { endpoint: subscription.endpoint }, token);
  await subscription.unsubscribe();
}

function showState(button, on) {
  button.setAttribute("aria-pressed", on ? "true" : "false");
}

async function toggle(button) {
  const token = csrfToken(button);
  const on = button.getAttribute("aria-pressed") === "true";
  button.disabled = true;
  try {
    if (on) {
      await unsubscribe(token);
    } else {
      await subscribe(token);
    }
    showState(button, !on);
    announce(t(on ? "pushOff" : "pushOn"));
  } catch (err) {
    announce(err instanceof PushError ? err.message : t("pushFailed"));
  } finally {
    button.disabled = false;
  }
}

async function syncOnce() {
  if (Notification.permission !== "granted" || sessionStorage.getItem(SYNCED)) {
    return;
  }
  const subscription = await currentSubscription();
  if (subscription && sameKey(subscription.options.applicationServerKey, config.pushPublicKey)) {
    await tell("POST", subscription.toJSON(), csrfToken(null));
    sessionStorage.setItem(SYNCED, "1");
  }
}

export function init() {
  const buttons = $$("[data-scc-push-toggle]");
  if (!supported()) {
    buttons.forEach(function (button) {
      button.hidden = true;
    });
    return;
  }
  buttons.forEach(function (button) {
    if (!button.textContent.trim()) {
      button.textContent = t("pushToggle");
    }
    showState(button, false);
  });
  // Delegated: a button in a pane the shell swaps in later works too.
  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("[data-scc-push-toggle]");
    if (button && !button.disabled) {
      toggle(button);
    }
  });
  currentSubscription()
    .then(function (subscription) {
      buttons.forEach(function (button) {
        showState(button, !!subscription && Notification.permission === "granted");
      });
      return syncOnce();
    })
    .catch(function () {
      // Push is an extra: the chat works without it.
    });
}
