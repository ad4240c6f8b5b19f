"""What the pages hand to the browser client: the ``#scc-config`` JSON (docs/frontend.md).

This is the one contract between the server and ``static/smartcampus_chat/js/chat*``: every
key the client reads is built here (URLs with ``reverse()``, strings with ``gettext`` in the
request's language, timings from the settings), and the client types none of them itself.
``tests/test_client_js.py`` checks that the keys the JavaScript reads and the keys sent here
are the same sets.
"""

from __future__ import annotations

from typing import Any

from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language, gettext

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.anonymity import ANONYMOUS_NAME
from smartcampus_chat.domain.file_labels import FILE_TYPES, size_units
from smartcampus_chat.domain.names import display_name
from smartcampus_chat.domain.notifications import MUTE_FOR, MUTED_FOREVER
from smartcampus_chat.domain.policies import RoomAccess
from smartcampus_chat.domain.reactions import reaction_choices
from smartcampus_chat.exceptions import FileTooLarge, TooManyAttachments
from smartcampus_chat.models import ChatRoom, ReportCategory, ReportOutcome, Role, RoomType
from smartcampus_chat.protocol.frames import ws_path
from smartcampus_chat.protocol.render import user_ref
from smartcampus_chat.queries import Receipt
from smartcampus_chat.queries.push_subscriptions import push_config
from smartcampus_chat.web.forms import DURATION_CHOICES
from smartcampus_chat.web.timeline import clock_config

#: Stands for the slug in ``roomUrl``; the client replaces it (a valid slug itself, so the
#: URL reverses whatever prefix the host mounted the app under).
SLUG_PLACEHOLDER = "__slug__"

#: ``?pane=1`` on a shell URL (the room list, a room) answers its main pane alone: the same
#: template include the full page renders, swapped in by the client without a page load.
PANE_PARAM = "pane"


def client_strings() -> dict[str, str]:
    """Translated strings the client shows, in the request's language.

    Placeholders use Python's ``%(name)s`` syntax; the client replaces them itself.
    ``closed*`` are the banners of the close codes that end the client (docs/protocol.md).
    """
    return {
        "sending": gettext("Sending…"),
        "reconnecting": gettext("Connection lost. Reconnecting…"),
        "typing_one": gettext("%(name)s is typing…"),
        "typing_two": gettext("%(name)s and %(other)s are typing…"),
        "typing_many": gettext("%(name)s and %(count)s others are typing…"),
        "message_deleted": gettext("Message deleted"),
        "deletedUser": gettext("Former member"),
        # The author of a system message (domain.names.author_name).
        "systemAuthor": gettext(app_settings.SITE_NAME),
        "edited": gettext("(edited)"),
        "edit": gettext("Edit"),
        "editPrompt": gettext("Edit message"),
        "delete": gettext("Delete"),
        "save": gettext("Save"),
        "cancel": gettext("Cancel"),
        "confirm_delete": gettext("Delete this message?"),
        "editHint": gettext("Enter to save, Esc to cancel"),
        "copyLink": gettext("Copy link"),
        "reply": gettext("Reply"),
        "replyingTo": gettext("Replying to %(name)s"),
        "cancelReply": gettext("Cancel reply"),
        "react": gettext("React"),
        "pin": gettext("Pin"),
        "unpin": gettext("Unpin"),
        "addReaction": gettext("Add a reaction"),
        "searchEmoji": gettext("Search emoji"),
        "noEmoji": gettext("No emoji found"),
        "someone": gettext("Someone"),
        "reactionNotSent": gettext("The reaction could not be sent."),
        "removePreview": gettext("Remove the link preview"),
        "previewNotRemoved": gettext("The link preview could not be removed."),
        "linkCopied": gettext("Link copied."),
        "today": gettext("Today"),
        "yesterday": gettext("Yesterday"),
        "jumpToLatest": gettext("%(count)s new, jump to the latest"),
        "failed": gettext("Not sent"),
        "notDelivered": gettext("The message could not be delivered."),
        "retry": gettext("Retry"),
        "discard": gettext("Discard"),
        "archived": gettext(
            "This room is archived: you can read it, but nobody can post in it any more."
        ),
        "new_message_announcement": gettext("New message from %(name)s"),
        "online": gettext("online"),
        "offline": gettext("offline"),
        "closedAuth": gettext("You are signed out. Sign in again to keep chatting."),
        "closedForbidden": gettext("You no longer have access to this room."),
        "closedGone": gettext("This room was deleted."),
        "closedVersion": gettext("This page is out of date. Reload it to keep chatting."),
        "titleUnread": gettext("(%(count)s) %(title)s"),
        # The details panel's member count; the client picks the plural form of the page's
        # language with Intl.PluralRules ("one" or any other).
        "unreadMessages": gettext("Unread messages"),
        "unreadMentions": gettext("Unread mentions"),
        "mentionSomeone": gettext("Mention someone"),
        "seenBy": gettext("Seen by %(names)s"),
        "mentionSuggestions_one": gettext("%(count)s suggestion, Enter to insert"),
        "mentionSuggestions_other": gettext(
            "%(count)s suggestions, arrows to choose, Enter to insert"
        ),
        "members_one": gettext("%(count)s member"),
        "members_other": gettext("%(count)s members"),
        # Message search (js/chat/search.js): the count of a page of results, announced.
        "searchResults_one": gettext("%(count)s result"),
        "searchResults_other": gettext("%(count)s results"),
        "searchNone": gettext("No message matches this search."),
        "searchMore": gettext("More results"),
        "searchClose": gettext("Close the results"),
        "searching": gettext("Searching…"),
        # Attachments: the composer (js/chat/attachments.js), a message's files
        # (files.js, the sizes' units of domain/file_labels.py) and the viewer (viewer.js).
        "attachFiles": gettext("Attach files"),
        "filesToSend": gettext("Files to send"),
        "dropFiles": gettext("Drop the files here to attach them"),
        "uploading": gettext("Uploading %(name)s"),
        "cancelUpload": gettext("Cancel the upload of %(name)s"),
        "removeFile": gettext("Remove %(name)s"),
        "retryUpload": gettext("Retry the upload of %(name)s"),
        "uploadFailed": gettext("The upload failed."),
        # What the server answers (the client checks these limits before uploading).
        "fileTooLarge": str(FileTooLarge.default_message),
        "tooManyFiles": str(TooManyAttachments.default_message),
        "waitForUploads": gettext("Wait until the files are uploaded."),
        "uploadsFailed": gettext("Retry or remove the files that could not be uploaded."),
        "downloadFile": gettext("Download %(name)s"),
        "download": gettext("Download"),
        "close": gettext("Close"),
        "imageViewer": gettext("Image viewer"),
        "imageOf": gettext("Image %(index)s of %(count)s"),
        "previousImage": gettext("Previous image"),
        "nextImage": gettext("Next image"),
        **{f"size{unit}": text for unit, text in size_units().items()},
        # Web Push on this browser (js/chat/push.js): the toggle's name and what it says.
        "pushToggle": gettext("Push notifications on this browser"),
        "pushOn": gettext("Push notifications are on for this browser."),
        "pushOff": gettext("Push notifications are off for this browser."),
        "pushBlocked": gettext(
            "Notifications are blocked for this site: allow them in the browser's settings."
        ),
        "pushUnsupported": gettext("This browser cannot receive push notifications."),
        "pushFailed": gettext("Push notifications could not be changed; try again."),
        **notification_strings(),
        **moderation_strings(),
        **report_strings(),
        **office_hours_strings(),
        **announcement_strings(),
        **question_strings(),
        **anonymous_strings(),
        **poll_strings(),
    }


def anonymous_strings() -> dict[str, str]:
    """What js/chat/anonymous.js says (docs/anonymous-posts.md)."""
    return {
        "anonymousName": str(ANONYMOUS_NAME),
        "revealAuthor": gettext("Reveal author"),
        "revealTitle": gettext("Reveal the author of this anonymous post"),
        "revealReason": gettext("Why (kept in the audit log)"),
        "revealConfirm": gettext("Reveal"),
        "revealedAs": gettext("This post was written by %(name)s."),
        "revealedGone": gettext("The author's account no longer exists."),
    }


def office_hours_strings() -> dict[str, str]:
    """What js/chat/office_hours.js says: the panel's states, a student's place, a
    teacher's queue and the session's figures (docs/office-hours.md)."""
    return {
        "ohNone": gettext("No office hours now."),
        "ohScheduled": gettext("Office hours start at %(time)s."),
        "ohOpen": gettext("Office hours are open: %(waiting)s waiting."),
        "ohClosed": gettext("Office hours are closed."),
        "ohWaitUnknown": gettext("Estimated wait: not known yet."),
        "ohWait": gettext("Estimated wait: about %(minutes)s min."),
        "ohPosition": gettext("You are number %(position)s in the queue."),
        "ohTurn": gettext("It's your turn: %(name)s is ready to help you."),
        "ohDone": gettext("You were helped. Thank you!"),
        "ohLeft": gettext("You left the queue."),
        "ohNoShow": gettext("You were marked absent."),
        "ohClaim": gettext("Claim"),
        "ohDoneButton": gettext("Done"),
        "ohNoShowButton": gettext("No-show"),
        "ohHelpedBy": gettext("helped by %(name)s"),
        "ohNoTopic": gettext("(no topic)"),
        "ohEmpty": gettext("Nobody is waiting."),
        "ohStatServed": gettext("Served"),
        "ohStatNoShows": gettext("No-shows"),
        "ohStatWait": gettext("Average wait"),
        "ohStatService": gettext("Average time with a student"),
        "ohMinutes": gettext("%(minutes)s min"),
        "ohFailed": gettext("That did not work: %(reason)s"),
    }


def announcement_strings() -> dict[str, str]:
    """What js/chat/announcements.js says: an announcement joining the top of the room,
    its acknowledgement, and the moderators' counts."""
    return {
        "announcementFrom": gettext("Announcement from %(name)s"),
        "acknowledged": gettext("Thank you: the announcement is acknowledged."),
        "acksOf": gettext("%(acked)s of %(total)s acknowledged"),
        "acksWho": gettext("Who has and who has not"),
        "acksDone": gettext("Acknowledged"),
        "acksNotYet": gettext("Not yet"),
        "acksCsv": gettext("Download as CSV"),
    }


def question_strings() -> dict[str, str]:
    """What js/chat/questions.js says (Q&A mode, docs/questions.md)."""
    return {
        "qaUpvote": gettext("Up-vote this question, up-votes:"),
        "qaResolved": gettext("Resolved"),
        "qaEndorsed": gettext("Endorsed answer"),
        "qaEndorsedBy": gettext("Endorsed by %(name)s"),
        "qaAnswers": gettext("Answers: %(count)s"),
        "qaResolve": gettext("Mark resolved"),
        "qaReopen": gettext("Reopen"),
        "qaEndorse": gettext("Endorse this answer"),
        "qaUnendorse": gettext("Withdraw the endorsement"),
        "qaGoTo": gettext("Go to the question"),
        "qaQuestion": gettext("Question"),
    }


def poll_strings() -> dict[str, str]:
    """What js/chat/polls.js says: a poll's state, its results (read by screen readers as
    text, not only bars) and its errors."""
    return {
        "pollLabel": gettext("Poll"),
        "pollSingle": gettext("Choose one answer."),
        "pollMultiple": gettext("Choose one or more answers."),
        "pollAnonymous": gettext("Anonymous: nobody sees who voted for what."),
        "pollClosesAt": gettext("Closes %(time)s."),
        "pollClosed": gettext("Closed"),
        "pollVote": gettext("Vote"),
        "pollClose": gettext("Close poll"),
        "pollVotes_one": gettext("%(count)s vote"),
        "pollVotes_other": gettext("%(count)s votes"),
        "pollVoters_one": gettext("%(count)s person voted"),
        "pollVoters_other": gettext("%(count)s people voted"),
        "pollVotedBy": gettext("Voted by %(names)s"),
        "pollYourChoice": gettext("(your choice)"),
        "pollVoted": gettext("Your vote is counted."),
        "pollWithdrawn": gettext("Your vote is withdrawn."),
        "pollCreated": gettext("Poll posted."),
        "pollOptionN": gettext("Option %(n)s"),
        "pollRemoveOptionN": gettext("Remove option %(n)s"),
        "pollNeedsQuestion": gettext("Write the question."),
        "pollNeedsOptions": gettext("Write at least two options."),
    }


def report_strings() -> dict[str, str]:
    """What js/chat/reports.js says: the report dialog (its categories), the moderators'
    "Moderation" panel and its actions, the "Mute author" dialog, and the outcome a
    reporter (or the author of a held message) is told."""
    return {
        "report": gettext("Report"),
        "reportTitle": gettext("Report this message to the room's moderators"),
        "reportWhy": gettext("Why"),
        "reportNote": gettext("Note for the moderators (optional)"),
        "reportSent": gettext("Thank you: the room's moderators will look at it."),
        "reportFailed": gettext("The report could not be sent."),
        **{f"category_{c.value}": str(c.label) for c in ReportCategory},
        "muteAuthor": gettext("Mute author"),
        "muteTitle": gettext("Mute %(name)s in this room"),
        "muteFor": gettext("For"),
        "mute": gettext("Mute"),
        "muteDone": gettext("%(name)s is muted."),
        "actionFailed": gettext("This could not be done: %(reason)s"),
        "moderationQueueEmpty": gettext("Nothing waits for a moderator."),
        "queueReported": gettext("Reported as %(category)s by %(name)s"),
        "queueHeld": gettext("Held by the word filter"),
        "queueNote": gettext("Note: %(note)s"),
        "queueReason": gettext("Reason"),
        "dismiss": gettext("Dismiss"),
        "ban": gettext("Ban"),
        "approve": gettext("Approve"),
        "reject": gettext("Reject"),
        **{f"duration_{value}": str(label) for value, label in DURATION_CHOICES},
        **{f"outcome_{o.value}": str(o.label) for o in ReportOutcome},
        "outcomeReport": gettext("Your report in %(room)s: %(outcome)s."),
        "outcomeHeld": gettext("Your message held in %(room)s: %(outcome)s."),
    }


def moderation_strings() -> dict[str, str]:
    """What js/chat/moderation.js says to the person a moderator acted on, and above the
    composer while they may not post."""
    return {
        "mutedNotice": gettext("A moderator muted you in this room until %(until)s."),
        "mutedNoticeIndefinite": gettext(
            "A moderator muted you in this room until they unmute you."
        ),
        "mutedElsewhere": gettext("A moderator muted you in %(room)s."),
        "unmutedNotice": gettext("You may post in %(room)s again."),
        "lockedNotice": gettext("This room is locked: only its moderators post."),
        "courseEnded": gettext("This course ended on %(date)s; the room is read-only."),
        "bannedNotice": gettext("A moderator banned you from %(room)s until %(until)s."),
        "bannedNoticeIndefinite": gettext("A moderator banned you from %(room)s."),
        "removedNotice": gettext("A moderator removed you from %(room)s."),
        "unbannedNotice": gettext("Your ban from %(room)s was lifted."),
        "roleNotice": gettext("Your role in %(room)s is now: %(role)s."),
        "reasonNotice": gettext("Reason: %(reason)s"),
        **{f"role_{value}": str(label) for value, label in Role.choices},
    }


def push_client_config() -> dict[str, Any]:
    """What js/chat/push.js needs to subscribe this browser: whether the site sends push,
    its VAPID public key, where to send the subscription and the service worker's URL (at
    the chat's prefix: its scope is the chat's pages). All None/False when push is off."""
    push = push_config()
    return {
        "pushEnabled": push.enabled,
        "pushPublicKey": push.public_key,
        "pushSubscriptionsUrl": (
            reverse("smartcampus_chat:api-push-subscriptions") if push.enabled else None
        ),
        "serviceWorkerUrl": reverse("smartcampus_chat:service_worker") if push.enabled else None,
    }


def notification_strings() -> dict[str, str]:
    """The notification centre's strings (js/chat/notifications.js, notifyitem.js,
    desktop.js, roomnotify.js): the bell's name and count, each kind's label and the title
    of its desktop notification (``%(name)s``: who, ``%(room)s``: where), what the panel
    and a room's menu say (their buttons are rendered by the server)."""
    return {
        "notifications": gettext("Notifications"),
        "notificationsUnread_one": gettext("Notifications, %(count)s unread"),
        "notificationsUnread_other": gettext("Notifications, %(count)s unread"),
        "notificationsCount_one": gettext("%(count)s unread notification"),
        "notificationsCount_other": gettext("%(count)s unread notifications"),
        "notifyKind_announcement": gettext("Announcement to acknowledge"),
        "notifyKind_mention": gettext("Mention"),
        "notifyKind_reply": gettext("Reply"),
        "notifyKind_private": gettext("Private message"),
        "notifyKind_message": gettext("Message"),
        "notifyTitle_mention": gettext("%(name)s mentioned you in %(room)s"),
        "notifyTitle_reply": gettext("%(name)s replied to you in %(room)s"),
        "notifyTitle_private": gettext("%(name)s wrote to you"),
        "notifyTitle_message": gettext("%(name)s in %(room)s"),
        "notificationUnread": gettext("Unread"),
        "muted": gettext("muted"),
        "notificationsFailed": gettext("The notifications could not be loaded."),
        "desktopOn": gettext("Desktop notifications are on in this browser."),
        "desktopDenied": gettext(
            "Desktop notifications are blocked: allow them in this browser's site settings."
        ),
        "desktopUnsupported": gettext("This browser cannot show desktop notifications."),
        "mutedUntil": gettext("Muted until %(time)s"),
        "mutedForever": gettext("Muted until you turn it back on"),
        "notifySettingFailed": gettext("The notification setting could not be saved."),
    }


def _url(name: str, **kwargs: Any) -> str | None:
    """``reverse(name)``, or None when the route is not there (the feature is off)."""
    try:
        return reverse(f"smartcampus_chat:{name}", kwargs=kwargs or None)
    except NoReverseMatch:
        return None


def notification_config() -> dict[str, Any] | None:
    """What the notification centre needs (js/chat/notifications.js): the REST list and
    mark-read endpoints, the no-JS page, a room's notification setting (``__slug__`` for
    the room); None when the site turned notifications off (``NOTIFICATIONS``)."""
    if not app_settings.NOTIFICATIONS:
        return None
    return {
        "listUrl": _url("api-notification-list"),
        "readUrl": _url("api-notifications-read"),
        "pageUrl": _url("notifications"),
        "roomUrl": _url("api-room-notifications", slug=SLUG_PLACEHOLDER),
        # A room's "Mute for…" choices (seconds by the value of their button), and the
        # end of a mute "until I turn it back on".
        "muteFor": {key: round(span.total_seconds()) for key, span in MUTE_FOR.items()},
        "mutedForever": MUTED_FOREVER.isoformat(),
    }


def attachment_config() -> dict[str, Any]:
    """What the composer needs to attach files (js/chat/attachments.js): where to upload
    (``__slug__`` for the room) and delete an upload (``0`` for its id), the limits the
    client checks before uploading (the server checks them again), the types offered by
    the file picker, and the cards' icons and labels (domain/file_labels.py). The URLs
    are None when the site turned attachments off (``ATTACHMENTS``)."""
    enabled = bool(app_settings.ATTACHMENTS)
    return {
        "uploadUrl": (
            reverse("smartcampus_chat:api-attachment-list", kwargs={"room_slug": SLUG_PLACEHOLDER})
            if enabled
            else None
        ),
        "attachmentUrl": (
            reverse("smartcampus_chat:api-attachment-detail", kwargs={"pk": 0}) if enabled else None
        ),
        "attachmentMaxBytes": app_settings.ATTACHMENT_MAX_BYTES,
        "attachmentsPerMessage": app_settings.ATTACHMENTS_PER_MESSAGE,
        "attachmentTypes": list(app_settings.ATTACHMENT_TYPES),
        "fileTypes": {name: list(kind) for name, kind in FILE_TYPES.items()},
    }


def pane_config(
    user: Any,
    room: ChatRoom | None = None,
    access: RoomAccess | None = None,
    *,
    joined: bool = False,
    receipts: list[Receipt] | None = None,
    must_acknowledge: bool = False,
    sees_acks: bool = False,
    anonymous: bool = False,
    can_reveal: bool = False,
    can_create_poll: bool = False,
    can_vote: bool = False,
) -> dict[str, Any]:
    """What changes with the open room: sent in ``#scc-config`` and again, alone, in the
    pane's ``#scc-pane-config``, which the client merges into its configuration when it
    swaps a pane in (docs/frontend.md, "The shell").

    ``lastSeq``/``lastEventSeq`` are read from ``room`` as it was loaded *before* the
    history: the client resumes from there and may receive a message it already shows,
    which it ignores by id, but never misses one.
    """
    return {
        "room": room.slug if room else None,
        # A room the user joined is followed by the all-rooms socket (``wsUrl``); another
        # one (a public room read before joining) by its own socket, while it is open.
        "joined": joined,
        "roomWsUrl": ws_path(room.slug) if room else None,
        "lastSeq": room.last_seq if room else 0,
        "lastEventSeq": room.last_event_seq if room else 0,
        # Older pages are fetched from the REST API when the reader scrolls up.
        "historyUrl": (
            reverse("smartcampus_chat:api-message-list", kwargs={"room_slug": room.slug})
            if room
            else None
        ),
        # "Seen by" (js/chat/receipts.js): the others' read markers; null: not shown here.
        "receipts": (
            None
            if receipts is None
            else [
                {"id": r.user.pk, "name": display_name(r.user), "seq": r.last_read_seq}
                for r in receipts
            ]
        ),
        # The composer's @ autocomplete (js/chat/mentions.js).
        "mentionsUrl": (
            reverse("smartcampus_chat:api-member-mentionable", kwargs={"room_slug": room.slug})
            if room
            else None
        ),
        # Polls (js/chat/polls.js): whether the composer offers "Create poll", and whether
        # the reader votes (the server decides again on every frame).
        "canCreatePoll": can_create_poll,
        "canVote": can_vote,
        "pollMaxOptions": app_settings.POLL_MAX_OPTIONS,
        # Moderators get a delete button on others' live messages too.
        "canModerate": bool(access is not None and access.can_moderate),
        # Reports (js/chat/reports.js): where a message is reported (``__id__``: its id),
        # and for moderators the room's queue, its actions and a member's mute.
        "reportUrl": (
            _id_template(
                "smartcampus_chat:api-message-report",
                kwargs={"room_slug": room.slug, "message_id": 0},
            )
            if room
            else None
        ),
        "reportsUrl": (
            reverse("smartcampus_chat:api-report-list", kwargs={"room_slug": room.slug})
            if room and access is not None and access.can_moderate
            else None
        ),
        "resolveUrl": (
            _id_template(
                "smartcampus_chat:api-report-resolve",
                kwargs={"room_slug": room.slug, "report_id": 0},
            )
            if room and access is not None and access.can_moderate
            else None
        ),
        "muteUrl": (
            _id_template(
                "smartcampus_chat:api-member-mute", kwargs={"room_slug": room.slug, "user_id": 0}
            )
            if room and access is not None and access.can_moderate
            else None
        ),
        # Office hours (js/chat/office_hours.js): the room's view, its queue (raise, leave),
        # claims and a student's end (``__id__``: the entry).
        **office_hours_config(room),
        # Why the reader may not post now (js/chat/moderation.js): a moderator's mute
        # (its end, ISO 8601; 9999-12-31: until unmuted) and the room's lock.
        "mutedUntil": (
            access.muted_until.isoformat()
            if access is not None and access.muted_until is not None
            else None
        ),
        "locked": bool(room is not None and room.is_locked),
        # When the room's course ends (ISO 8601, None: no end known): js/chat/terms.js
        # shows the read-only banner and hides the composer from then on (docs/terms.md).
        "endsAt": room.ends_at.isoformat() if room is not None and room.ends_at else None,
        # Announcements (js/chat/announcements.js): whether the reader is asked to
        # acknowledge them (a new one joins the top of the room), the no-JS form's
        # address, and for moderators the lists (REST) and their CSV (``__id__``: the id).
        "mustAcknowledge": must_acknowledge,
        "ackFormUrl": (
            _id_template(
                "smartcampus_chat:announcement_ack", kwargs={"slug": room.slug, "message_id": 0}
            )
            if room
            else None
        ),
        "acksUrl": (
            _id_template(
                "smartcampus_chat:api-message-acks",
                kwargs={"room_slug": room.slug, "message_id": 0},
            )
            if room and sees_acks
            else None
        ),
        "acksCsvUrl": (
            _id_template(
                "smartcampus_chat:announcement_acks_csv",
                kwargs={"slug": room.slug, "message_id": 0},
            )
            if room and sees_acks
            else None
        ),
        # Q&A mode (js/chat/questions.js): whether the room is in it, and its questions
        # (REST: states, and whether the reader up-voted each).
        "qaMode": bool(room is not None and room.qa_mode),
        "questionsUrl": (
            reverse("smartcampus_chat:api-room-questions", kwargs={"room_slug": room.slug})
            if room
            else None
        ),
        # Anonymous posts (js/chat/anonymous.js): whether the composer offers "post
        # anonymously" (no typing frames while it is checked), and whether the reader may
        # reveal an anonymous post's author (``message.reveal``, audit-logged).
        "canPostAnonymously": anonymous,
        "canReveal": can_reveal,
        # The page's own part of the tab title (the base template may add the site's name;
        # the client keeps whatever surrounds it).
        "title": getattr(room, "title", room.name) if room else gettext("Chat"),
    }


def office_hours_config(room: ChatRoom | None) -> dict[str, Any]:
    """The office-hours URLs of ``room`` (None outside a room); the services decide who may."""
    if room is None or room.room_type == RoomType.PRIVATE:
        return {
            "officeHoursUrl": None,
            "officeHoursQueueUrl": None,
            "officeHoursClaimUrl": None,
            "officeHoursFinishUrl": None,
        }
    slug = {"room_slug": room.slug}
    return {
        "officeHoursUrl": reverse("smartcampus_chat:api-office-hours", kwargs=slug),
        "officeHoursQueueUrl": reverse("smartcampus_chat:api-office-hours-queue", kwargs=slug),
        "officeHoursClaimUrl": reverse("smartcampus_chat:api-office-hours-claim", kwargs=slug),
        "officeHoursFinishUrl": _id_template(
            "smartcampus_chat:api-office-hours-finish", kwargs={**slug, "entry_id": 0}
        ),
    }


def _id_template(name: str, kwargs: dict[str, Any]) -> str:
    """The URL of route ``name`` with its last id (given as 0) as ``__id__``, for the
    client to fill in."""
    head, _, tail = reverse(name, kwargs=kwargs).rpartition("/0/")
    return f"{head}/__id__/{tail}"


def typing_timings() -> dict[str, int]:
    """When the client refreshes and ends its own "typing" (ms), from ``TYPING_TIMEOUT``.

    The others drop an indicator ``TYPING_TIMEOUT`` seconds after its last "started": the
    client refreshes it well before (60 %), though never faster than ``TYPING_RATE_*``
    allows, and says "stopped" after 80 % of it without a keystroke.
    """
    timeout = float(app_settings.TYPING_TIMEOUT)
    rate = float(app_settings.TYPING_RATE_PER_SECOND)
    refresh = max(timeout * 0.6, 1 / rate if rate > 0 else 0.0)
    return {"typingRefreshMs": round(refresh * 1000), "typingIdleMs": round(timeout * 800)}


def client_config(
    user: Any,
    room: ChatRoom | None = None,
    access: RoomAccess | None = None,
    *,
    joined: bool = False,
    receipts: list[Receipt] | None = None,
    must_acknowledge: bool = False,
    sees_acks: bool = False,
    anonymous: bool = False,
    can_reveal: bool = False,
    can_create_poll: bool = False,
    can_vote: bool = False,
) -> dict[str, Any]:
    """The configuration of a shell page; ``room`` when a conversation is open."""
    return {
        # The all-rooms socket: the sidebar and every joined room (docs/frontend.md).
        "wsUrl": ws_path(None),
        "userId": user.pk,
        # Shown as the author of a message being sent, as the server names it.
        "userName": user_ref(user).name,
        # Rooms added live to the sidebar link here (the host's mount point included).
        "roomUrl": reverse("smartcampus_chat:room", kwargs={"slug": SLUG_PLACEHOLDER}),
        # The query parameter that asks a shell URL for its main pane alone.
        "paneParam": PANE_PARAM,
        "faviconUrl": static("smartcampus_chat/img/favicon.svg"),
        "faviconUnreadUrl": static("smartcampus_chat/img/favicon-unread.svg"),
        "pageSize": app_settings.PAGE_SIZE,
        # The reaction picker's emoji, named in the page's language (docs/frontend.md).
        "reactionChoices": reaction_choices(get_language() or "en"),
        **attachment_config(),
        **push_client_config(),
        "notifications": notification_config(),
        **typing_timings(),
        **pane_config(
            user,
            room,
            access,
            joined=joined,
            receipts=receipts,
            must_acknowledge=must_acknowledge,
            sees_acks=sees_acks,
            anonymous=anonymous,
            can_reveal=can_reveal,
            can_create_poll=can_create_poll,
            can_vote=can_vote,
        ),
        # Times and days of live messages read as the server renders them (web/timeline.py).
        **clock_config(),
        "i18n": client_strings(),
    }
