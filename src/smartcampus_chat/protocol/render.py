"""Turn model instances into the protocol's schema objects."""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import ObjectDoesNotExist
from django.urls import reverse

from smartcampus_chat.identity import display_name, public_username
from smartcampus_chat.markup import plain_text
from smartcampus_chat.models import (
    ChatAttachment,
    ChatLinkPreview,
    ChatMessage,
    ChatNotification,
    ChatRoom,
    PreviewStatus,
)
from smartcampus_chat.protocol.payloads import (
    AttachmentData,
    AttachmentKindName,
    LinkPreviewData,
    MessageData,
    MessageKindName,
    NotificationData,
    NotificationKindName,
    PollData,
    PollOptionData,
    ReactionData,
    ReplyData,
    RoomData,
    RoomFileData,
    SearchHitData,
    SearchRoomRef,
    UserRef,
)

#: Characters of a parent's text in a reply's quote (``ReplyData.excerpt``).
EXCERPT_CHARS = 120


def shown_sender(message: ChatMessage) -> Any:
    """The sender a door may name for ``message``: None for an anonymous post (the one
    rule of docs/anonymous-posts.md; every renderer below asks it), else its sender."""
    return None if message.anonymous else message.sender


def user_ref(user: Any) -> UserRef:
    """A person as every door shows them: ``name`` is :func:`display_name`; ``username`` the
    login identifier only when ``EXPOSE_USERNAME`` says it may be shown (else None)."""
    return UserRef(id=user.pk, username=public_username(user), name=display_name(user))


def visible_content(message: ChatMessage, *, show_deleted: bool = False) -> str | None:
    """The text of ``message`` a reader may see: the one rule every door renders through.

    None once the message is deleted, for everyone including its author, unless
    ``show_deleted`` (the policy's ``can_see_deleted_content``: a room's moderators reading
    its history through the API; the Django admin is the other way, for audit).
    """
    if message.is_deleted and not show_deleted:
        return None
    return message.content


def visible_html(message: ChatMessage, *, show_deleted: bool = False) -> str | None:
    """:func:`visible_content` as rendered when it was written (sanitised HTML)."""
    if message.is_deleted and not show_deleted:
        return None
    return message.content_html


def excerpt(html: str) -> str:
    """A message's text in a reply's quote: its plain text, cut at :data:`EXCERPT_CHARS`
    with an ellipsis (the rule of docs/protocol.md that clients apply too)."""
    text = plain_text(html)
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


def reply_data(parent: ChatMessage | None) -> ReplyData | None:
    """The quote of ``parent`` in its replies (None for no parent)."""
    if parent is None:
        return None
    return ReplyData(
        id=parent.pk,
        seq=parent.seq,
        kind=cast(MessageKindName, parent.kind),
        sender=user_ref(parent.sender) if shown_sender(parent) is not None else None,
        excerpt=None if parent.is_deleted else excerpt(parent.content_html),
        is_deleted=parent.is_deleted,
        anonymous=parent.anonymous,
    )


def reactions_by_emoji(message: ChatMessage) -> dict[str, list[Any]]:
    """``message``'s reaction rows grouped by emoji, in the order each was first added.

    Read from ``reaction_rows`` (``ChatMessage.objects.shown()`` loads them for a page of
    messages at once, and a new message has none); a message loaded without them costs a
    query here.
    """
    rows = getattr(message, "reaction_rows", None)
    if rows is None:
        rows = list(message.reactions.order_by("pk")) if message.pk is not None else []
    groups: dict[str, list[Any]] = {}
    for row in rows:
        groups.setdefault(row.emoji, []).append(row)
    return groups


def reactions_data(message: ChatMessage) -> list[ReactionData]:
    """``message``'s reactions as the protocol carries them (:func:`reactions_by_emoji`)."""
    return [
        ReactionData(emoji=emoji, count=len(rows), user_ids=[row.user_id for row in rows])
        for emoji, rows in reactions_by_emoji(message).items()
    ]


def attachment_data(attachment: ChatAttachment) -> AttachmentData:
    """One attachment as clients see it, with the URLs that serve it."""
    url = reverse("smartcampus_chat:attachment", args=[attachment.pk])
    thumbnails = attachment.thumbnails or {}

    def thumbnail_url(size: str) -> str | None:
        if size not in thumbnails:
            return None
        return reverse("smartcampus_chat:attachment_thumbnail", args=[attachment.pk, size])

    return AttachmentData(
        id=attachment.pk,
        name=attachment.name,
        size=attachment.size,
        content_type=attachment.content_type,
        kind=cast(AttachmentKindName, attachment.kind),
        width=attachment.width,
        height=attachment.height,
        url=url,
        download_url=f"{url}?download=1",
        thumbnail_url=thumbnail_url("small"),
        preview_url=thumbnail_url("large"),
    )


def room_file_data(attachment: ChatAttachment) -> RoomFileData:
    """A file of a room's gallery (loaded with its message and sender)."""
    message = attachment.message
    assert message is not None
    return RoomFileData(
        attachment=attachment_data(attachment),
        message_id=message.pk,
        seq=message.seq,
        sender=user_ref(message.sender) if shown_sender(message) is not None else None,
        created_at=message.created_at,
        anonymous=message.anonymous,
    )


def attachments_data(message: ChatMessage, *, show_deleted: bool = False) -> list[AttachmentData]:
    """The files of ``message`` a reader may see (none once it is deleted, unless
    ``show_deleted``, as :func:`visible_content`).

    Read from ``attachment_rows`` (``ChatMessage.objects.shown()`` loads them for a page
    of messages in one query; the send pipeline sets them); else one query here.
    """
    if message.is_deleted and not show_deleted:
        return []
    rows = getattr(message, "attachment_rows", None)
    if rows is None:
        rows = list(message.attachments.order_by("position", "pk")) if message.pk else []
    return [attachment_data(row) for row in rows]


def link_preview_data(message: ChatMessage) -> LinkPreviewData | None:
    """The card of ``message``'s first link, when there is one to show.

    Read from the row ``ChatMessage.objects.shown()`` joins (``link_preview``), which the
    send pipeline marks absent on a new message; a message loaded otherwise costs a query.
    """
    if message.is_deleted or message.pk is None:
        return None
    row: ChatLinkPreview | None = getattr(message, "link_preview", None)
    if row is None or row.removed or row.status != PreviewStatus.READY:
        return None
    image_url = None
    if row.image_storage_name:
        image_url = reverse("smartcampus_chat:link_preview_image", args=[message.pk])
    return LinkPreviewData(
        url=row.url,
        title=row.title,
        description=row.description,
        site_name=row.site_name,
        image_url=image_url,
        image_width=row.image_width if image_url else None,
        image_height=row.image_height if image_url else None,
    )


def poll_of(message: ChatMessage) -> Any:
    """``message``'s poll row, or None (not a poll). Read from the row
    ``ChatMessage.objects.shown()`` joins; the send pipeline sets it on a new message."""
    try:
        return message.poll
    except ObjectDoesNotExist:
        return None


def poll_data(poll: Any, *, my_votes: list[int] | None = None) -> PollData:
    """A poll's state as every reader sees it (``my_votes``: the reader's own, for reads
    made for them). An anonymous poll names no voter. Options and votes are read from
    ``option_rows``/``vote_rows`` (``shown()`` and the vote service set them), else one
    query each."""
    options = getattr(poll, "option_rows", None)
    if options is None:
        options = list(poll.options.order_by("position"))
    votes = getattr(poll, "vote_rows", None)
    if votes is None:
        votes = list(poll.votes.select_related("user").order_by("pk"))
    by_option: dict[int, list[Any]] = {option.pk: [] for option in options}
    for vote in votes:
        by_option.setdefault(vote.option_id, []).append(vote)
    return PollData(
        multiple=poll.multiple,
        anonymous=poll.anonymous,
        closes_at=poll.closes_at,
        closed_at=poll.closed_at,
        closed=poll.is_closed(),
        voters=len({vote.user_id for vote in votes}),
        options=[
            PollOptionData(
                id=option.pk,
                text=option.text,
                votes=len(by_option[option.pk]),
                voters=[]
                if poll.anonymous
                else [user_ref(vote.user) for vote in by_option[option.pk]],
            )
            for option in options
        ],
        my_votes=my_votes,
    )


def message_poll_data(message: ChatMessage, *, show_deleted: bool = False) -> PollData | None:
    """The poll a reader of ``message`` sees: none once the message is deleted (as its
    text, unless ``show_deleted``). ``my_poll_votes`` on the poll: the reader's choice
    (``queries.polls.with_my_votes``)."""
    if message.is_deleted and not show_deleted:
        return None
    poll = poll_of(message)
    if poll is None:
        return None
    return poll_data(poll, my_votes=getattr(poll, "my_poll_votes", None))


def as_seen_by_author(data: MessageData, client_id: str | None) -> MessageData:
    """``data``, rendered once for the whole room, as :func:`message_data` renders it for
    its author (``viewer_id``): an anonymous post says it is theirs (``own``) and carries
    their ``client_id`` (docs/anonymous-posts.md)."""
    if not data.anonymous or data.own:
        return data
    return data.model_copy(update={"own": True, "client_id": client_id})


def message_data(
    message: ChatMessage,
    *,
    room_slug: str | None = None,
    sender: UserRef | None = None,
    show_deleted: bool = False,
    viewer_id: Any = None,
) -> MessageData:
    """``message`` as clients see it, in frames and in the REST API alike.

    ``sender``: the sender's :func:`user_ref`, when the caller has it already (a batch of
    one user's messages renders it once). Deleted content is never included unless
    ``show_deleted`` (see :func:`visible_content`).

    An anonymous post names nobody (:func:`shown_sender`): no sender, no client id (a
    client's ids could link its posts), ``anonymous`` true. ``viewer_id``: the one
    person this rendering goes to (an answer to their own request, never a broadcast):
    ``own`` tells them the anonymous post is theirs.
    """
    if message.anonymous:
        sender = None
    elif sender is None and message.sender is not None:
        sender = user_ref(message.sender)
    own = bool(message.anonymous and viewer_id is not None and message.sender_id == viewer_id)
    return MessageData(
        id=message.pk,
        room=room_slug or message.room.slug,
        seq=message.seq,
        event_seq=message.event_seq,
        kind=cast(MessageKindName, message.kind),
        sender=sender,
        content=visible_content(message, show_deleted=show_deleted),
        content_html=visible_html(message, show_deleted=show_deleted),
        created_at=message.created_at,
        is_edited=message.is_edited,
        edited_at=message.edited_at,
        is_deleted=message.is_deleted,
        deleted_at=message.deleted_at,
        reply_to=message.reply_to_id,
        reply=reply_data(message.reply_to) if message.reply_to_id is not None else None,
        reactions=reactions_data(message),
        pinned_at=message.pinned_at,
        attachments=attachments_data(message, show_deleted=show_deleted),
        preview=link_preview_data(message),
        client_id=(message.client_id or None) if not message.anonymous or own else None,
        requires_ack=message.requires_ack,
        ack_due=message.ack_due,
        anonymous=message.anonymous,
        own=own,
        poll=message_poll_data(message, show_deleted=show_deleted),
    )


def room_data(room: ChatRoom, *, title: str | None = None) -> RoomData:
    """``room`` as clients see it; ``title``: what its recipient calls it (see
    :func:`smartcampus_chat.domain.names.room_title`), its name when not given."""
    return RoomData(
        id=room.pk,
        slug=room.slug,
        name=room.name,
        title=title or room.name,
        room_type=room.room_type,
        description=room.description,
        is_archived=room.is_archived,
        read_receipts=room.read_receipts,
        slow_mode_seconds=room.slow_mode_seconds,
        is_locked=room.is_locked,
        qa_mode=room.qa_mode,
        ends_at=room.ends_at,
        allow_anonymous=room.allow_anonymous,
        members_can_create_polls=room.members_can_create_polls,
        last_seq=room.last_seq,
        last_event_seq=room.last_event_seq,
    )


def search_hit_data(
    message: ChatMessage, *, room_slug: str, room_title: str, snippet_html: str, url: str
) -> SearchHitData:
    """A search result: the message's identity, where it is, and its snippet."""
    sender = shown_sender(message)
    return SearchHitData(
        id=message.pk,
        room=SearchRoomRef(slug=room_slug, title=room_title),
        seq=message.seq,
        kind=cast(MessageKindName, message.kind),
        sender=user_ref(sender) if sender is not None else None,
        created_at=message.created_at,
        is_edited=message.is_edited,
        snippet_html=snippet_html,
        url=url,
        anonymous=message.anonymous,
    )


#: Characters of a message's text in a notification (``NotificationData.excerpt``).
NOTIFICATION_EXCERPT_CHARS = 140


def message_url(message: ChatMessage, room_slug: str) -> str:
    """The page of ``message``'s room, scrolled to it."""
    return reverse("smartcampus_chat:room", kwargs={"slug": room_slug}) + f"?message={message.pk}"


def notification_data(
    notification: ChatNotification, *, room_name: str, actor: UserRef | None = None
) -> NotificationData:
    """``notification`` as its person reads it; its message and room loaded. ``actor``:
    the sender's :func:`user_ref` when the caller has it already."""
    message, room = notification.message, notification.room
    if message.anonymous:
        actor = None  # A mention from an anonymous post names nobody.
    elif actor is None and notification.actor is not None:
        actor = user_ref(notification.actor)
    text = "" if message.is_deleted else plain_text(message.content_html)
    if len(text) > NOTIFICATION_EXCERPT_CHARS:
        text = text[: NOTIFICATION_EXCERPT_CHARS - 1] + "…"
    return NotificationData(
        id=notification.pk,
        kind=cast(NotificationKindName, notification.kind),
        room=room.slug,
        room_name=room_name,
        message_id=message.pk,
        seq=message.seq,
        actor=actor,
        excerpt=text,
        created_at=notification.created_at,
        read=notification.read_at is not None,
        url=message_url(message, room.slug),
    )
