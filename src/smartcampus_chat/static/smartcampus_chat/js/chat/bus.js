/*
 * A small event bus: the concerns talk through named events, not through each other's state.
 *
 *   "open"       the socket is open (a fresh one: resend, mark read)
 *   "message"    {message, type} a message.* frame was applied (room list previews, unread)
 *   "arrived"    {message} a new message showed in the list (typing indicator)
 *   "shown"      {seq} a message now shows in the list (read marker)
 *   "submit"     the composer is about to send (typing: no "stopped" frame needed)
 */

const listeners = Object.create(null);

export function on(name, listener) {
  (listeners[name] = listeners[name] || []).push(listener);
}

export function emit(name, detail) {
  (listeners[name] || []).forEach(function (listener) {
    listener(detail);
  });
}
