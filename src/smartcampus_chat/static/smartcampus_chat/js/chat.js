/*
 * smartcampus-chat real-time client: the entry module. Plain JavaScript ES modules, no build
 * step, no dependencies; loaded with <script type="module"> (includes/realtime.html).
 *
 * Reads its configuration from <script id="scc-config" type="application/json"> and enhances
 * the markup described in docs/frontend.md. Speaks the protocol of docs/protocol.md.
 * One module per concern under chat/ (docs/frontend.md, "Modules"); they talk through
 * chat/bus.js. This file wires them and holds the one table from frame type to handler.
 */

import * as actions from "./chat/actions.js";
import * as announcements from "./chat/announcements.js";
import * as anonymous from "./chat/anonymous.js";
import * as attachments from "./chat/attachments.js";
import * as composer from "./chat/composer.js";
import * as divider from "./chat/divider.js";
import * as drafts from "./chat/drafts.js";
import * as focus from "./chat/focus.js";
import * as help from "./chat/help.js";
import * as history from "./chat/history.js";
import { announceError } from "./chat/i18n.js";
import * as layout from "./chat/layout.js";
import * as mentions from "./chat/mentions.js";
import * as moderation from "./chat/moderation.js";
import * as terms from "./chat/terms.js";
import * as reports from "./chat/reports.js";
import { onAck, onMessageFrame } from "./chat/messages.js";
import * as notifications from "./chat/notifications.js";
import * as polls from "./chat/polls.js";
import * as officeHours from "./chat/office_hours.js";
import { hasConfig } from "./chat/page.js";
import * as previews from "./chat/previews.js";
import * as purges from "./chat/purges.js";
import * as push from "./chat/push.js";
import {
  onJoined,
  onLeft,
  onParticipants,
  onUpdated,
  onPresence,
  onPresenceBatch,
} from "./chat/presence.js";
import * as questions from "./chat/questions.js";
import * as quotes from "./chat/quotes.js";
import * as reactions from "./chat/reactions.js";
import * as reads from "./chat/reads.js";
import * as receipts from "./chat/receipts.js";
import * as replies from "./chat/replies.js";
import * as roomnotify from "./chat/roomnotify.js";
import * as rooms from "./chat/rooms.js";
import * as router from "./chat/router.js";
import * as search from "./chat/search.js";
import { onResumed, resumeRefused, start } from "./chat/socket.js";
import * as title from "./chat/title.js";
import * as typing from "./chat/typing.js";
import * as viewer from "./chat/viewer.js";

/* An error frame answers one of our frames (by id): the concern that sent it handles it;
   any other error is announced. */
function onError(frame) {
  return (
    resumeRefused(frame) ||
    reads.readRefused(frame) ||
    composer.sendRefused(frame) ||
    announcements.ackRefused(frame) ||
    polls.pollRefused(frame) ||
    search.searchRefused(frame) ||
    announceError(frame)
  );
}

function ignore() {}

/** Every server -> client frame type (smartcampus_chat.protocol.frames.ServerFrame) and its handler. */
const FRAME_HANDLERS = {
  "message.new": onMessageFrame,
  "message.edited": onMessageFrame,
  "message.deleted": onMessageFrame,
  "message.reactions": onMessageFrame,
  "message.pinned": onMessageFrame,
  "message.preview": onMessageFrame,
  "announcement.acked": announcements.onAcked,
  "announcement.acks": announcements.onAcks,
  "question.updated": questions.onUpdated,
  "question.voted": questions.onVoted,
  "message.revealed": anonymous.onRevealed,
  "poll.updated": polls.onUpdated,
  "poll.voted": polls.onVoted,
  "messages.purged": purges.onPurged,
  ack: function (frame) {
    onAck(frame);
    polls.onAck(frame);
  },
  error: onError,
  pong: ignore,
  resumed: onResumed,
  typing: typing.onTyping,
  presence: onPresence,
  "presence.batch": onPresenceBatch,
  participants: onParticipants,
  "participant.joined": onJoined,
  "participant.updated": onUpdated,
  "participant.left": onLeft,
  unread: rooms.onUnread,
  receipt: receipts.onReceipt,
  "room.added": rooms.onRoomAdded,
  "room.removed": rooms.onRoomRemoved,
  "room.updated": rooms.onRoomUpdated,
  "moderation.notice": moderation.onNotice,
  "report.resolved": reports.onResolved,
  "reports.changed": reports.onQueueChanged,
  "office_hours.state": officeHours.onState,
  "office_hours.place": officeHours.onPlace,
  "office_hours.queue": officeHours.onQueue,
  "search.results": search.onResults,
  notification: notifications.onNotification,
  "notifications.read": notifications.onRead,
};

if (hasConfig) {
  // Listeners first (composer before reads: on "open", pending messages go out before the
  // read marker, as they always have), then the socket.
  composer.init();
  attachments.init();
  viewer.init();
  reads.init();
  typing.init();
  rooms.init();
  roomnotify.init();
  notifications.init();
  officeHours.init();
  history.init();
  actions.init();
  drafts.init();
  layout.init();
  title.init();
  focus.init();
  help.init();
  quotes.init();
  reactions.init();
  previews.init();
  replies.init();
  mentions.init();
  moderation.init();
  terms.init();
  announcements.init();
  questions.init();
  polls.init();
  reports.init();
  receipts.init();
  search.init();
  divider.init();
  push.init();
  purges.init();
  router.init();
  start(FRAME_HANDLERS);
}
