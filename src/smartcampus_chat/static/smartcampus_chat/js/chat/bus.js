/*
 * A small event bus: the concerns talk through named events, not through each other's state.
 *
 *   "open"       the socket is open (a fresh one: resend, mark read)
 *   "message"    {message, type} a message.* frame was applied (room list previews, unread)
 *   "arrived"    {message} a new message showed in the list (typing indicator)
 *   "shown"      {seq} a message now shows in the list (read marker)
 *   "submit"     the composer is about to send (typing: no "stopped" frame needed)
 *   "room:close" {slug} the open room's pane is about to go (slug null: no room was open)
 *   "room:open"  {slug, root} a pane is in (root: its element; slug null: no room): the
 *                conversation modules bind to the markup under root
 *   "lost"       {attempts} the connection is lost, reconnecting (attempts in a row)
 *   "stopped"    {reason} the client stopped for good (a fatal close code, or the open
 *                room removed): reason is the i18n key of the banner shown
 *   "roomUpdated" {room} a room.updated frame (the open room may have been archived)
 *   "resumed"    {frame} a resumed frame (its purge marks: purges.js)
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
