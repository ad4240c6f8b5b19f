"""A client's state, fetched through the REST API, and the reducer that keeps it live.

The reducer applies server frames to that state the way a client following
docs/protocol.md would (Zulip's ``apply_events``). tests/test_events_state.py checks, for
each state-changing service, that the state fetched before, with the frames the service
published applied, equals the state fetched after: a frame that misses a change fails.

What no frame carries is written down here, never skipped silently: the reducer marks it
:data:`UNKNOWN` (equal to anything) and :data:`NOT_IN_FRAMES` says why. A client that
needs those fields fetches them again.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from smartcampus_chat.markup import mentioned_in, plain_text
from smartcampus_chat.protocol.frames import RoomData

State = dict[str, Any]
Frame = dict[str, Any]


class _Unknown:
    """A value the protocol does not tell a client: equal to anything."""

    def __eq__(self, other: object) -> bool:
        return True

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()

#: REST fields no frame carries, and where a client gets them (reported in issue #15).
NOT_IN_FRAMES = {
    "members.joined_at": "participant.joined has no joined_at: the member list is refetched",
    "receipts": "a membership change or room.updated of read_receipts: receipts are refetched",
    "office_hours.stats": "a session's figures (teachers): fetched again after a change",
    "acks": "a new announcement's lists (who is asked): the moderators' client fetches them",
}

#: The fields of ``RoomData`` (room.added, room.updated): the room list's own fields.
ROOM_DATA_FIELDS = tuple(RoomData.model_fields)


def _results(client: APIClient, url: str) -> list[dict[str, Any]]:
    response = client.get(url, {"limit": 100})
    assert response.status_code == 200, (url, response.status_code, response.content)
    rows: list[dict[str, Any]] = response.json()["results"]
    return rows


def fetch_room(client: APIClient, slug: str) -> State:
    """One room as a client loads it: detail (with access), history and members."""
    detail = client.get(reverse("smartcampus_chat:api-room-detail", args=[slug]))
    assert detail.status_code == 200, (slug, detail.content)
    history = _results(client, reverse("smartcampus_chat:api-message-list", args=[slug]))
    members = _results(client, reverse("smartcampus_chat:api-member-list", args=[slug]))
    receipts = client.get(reverse("smartcampus_chat:api-room-receipts", args=[slug]))
    office_hours = client.get(reverse("smartcampus_chat:api-office-hours", args=[slug]))
    assert office_hours.status_code == 200, (slug, office_hours.content)
    pending = client.get(reverse("smartcampus_chat:api-room-announcements", args=[slug]))
    return {
        "office_hours": office_hours.json(),
        "detail": detail.json(),
        "history": {message["id"]: message for message in history},
        "members": {member["user"]["id"]: member for member in members},
        "receipts": _receipts(receipts.json()),
        "to_acknowledge": sorted(message["id"] for message in pending.json()),
        "acks": _acks(client, slug, history),
        "questions": _questions(client, slug, detail.json()),
    }


def _questions(client: APIClient, slug: str, detail: dict[str, Any]) -> dict[int, Any]:
    """A room in Q&A mode: each question's state and whether the reader up-voted it."""
    if not detail["qa_mode"]:
        return {}
    url = reverse("smartcampus_chat:api-room-questions", args=[slug])
    response = client.get(url, {"limit": 100, "status": "all"})
    assert response.status_code == 200, (url, response.content)
    rows = response.json()["results"]
    return {row["id"]: {"state": row["state"], "voted": row["voted"]} for row in rows}


def _acks(client: APIClient, slug: str, history: list[dict[str, Any]]) -> dict[int, Any]:
    """Who acknowledged each announcement asking for it, for those who may see it (the
    room's moderators, staff): {id: {acked, total, acknowledged ids, pending ids}}."""
    out = {}
    for message in history:
        if not message["requires_ack"] or message["is_deleted"]:
            continue
        url = reverse("smartcampus_chat:api-message-acks", args=[slug, message["id"]])
        answer = client.get(url)
        if answer.status_code == 403:
            continue
        data = answer.json()
        out[message["id"]] = {
            "acked": data["acked"],
            "total": data["total"],
            "acknowledged": sorted(row["user"]["id"] for row in data["acknowledged"]),
            "pending": sorted(row["user"]["id"] for row in data["pending"]),
        }
    return out


def _receipts(answer: dict[str, Any]) -> dict[str, Any]:
    """The API's receipts by reader id (docs/protocol.md, "Read receipts")."""
    readers = {row["user"]["id"]: row for row in answer["readers"]}
    return {"enabled": answer["enabled"], "readers": readers}


def fetch_state(user: Any) -> State:
    """Everything a client of ``user`` shows: the room list (with unread counts and last
    messages), the unread summary, and each room's detail, history and members."""
    client = APIClient()
    client.force_authenticate(user)
    rooms = _results(client, reverse("smartcampus_chat:api-room-list"))
    unread = client.get(reverse("smartcampus_chat:api-unread")).json()
    notifications = client.get(
        reverse("smartcampus_chat:api-notification-list"), {"limit": 100}
    ).json()
    return {
        "notifications": {
            "unread": notifications["unread"],
            "items": {item["id"]: item for item in notifications["results"]},
        },
        "order": active_order({room["slug"]: room for room in rooms}, [r["slug"] for r in rooms]),
        "rooms": {room["slug"]: room for room in rooms},
        "unread": _sorted_unread(unread),
        "room": {room["slug"]: fetch_room(client, room["slug"]) for room in rooms},
    }


def active_order(rooms: dict[str, Any], order: list[str]) -> list[str]:
    """The list order of the rooms with messages (newest activity first); rooms without
    are left out (databases sort NULL dates differently)."""
    return [slug for slug in order if rooms[slug]["last_message_at"] is not None]


def _sorted_unread(summary: dict[str, Any]) -> dict[str, Any]:
    return {"total": summary["total"], "rooms": sorted(summary["rooms"], key=lambda r: r["room"])}


# --- The reducer ---------------------------------------------------------------------------


#: How the REST API writes a mute "until unmuted" (``domain.sanctions.FOREVER``).
FOREVER = "9999-12-31T00:00:00Z"


def _with_my_votes(message: Frame, held: Frame | None) -> Frame:
    """A message frame's poll says no reader's choice (``my_votes`` null): the client
    keeps the one it knows (none yet for a new poll: nobody voted)."""
    poll = message.get("poll")
    if poll is None or poll.get("my_votes") is not None:
        return message
    known = ((held or {}).get("poll") or {}).get("my_votes")
    return {**message, "poll": {**poll, "my_votes": known if known is not None else []}}


def _room_list_copy(message: Frame) -> Frame:
    """A room's last message as the room list shows it: a poll there says no reader's
    choice (``my_votes`` null; the room's history says it)."""
    if message.get("poll") is None:
        return message
    return {**message, "poll": {**message["poll"], "my_votes": None}}


class Reducer:
    """Applies frames to a fetched :data:`State` for user ``me`` (a copy: the input stays).

    ``load_room(slug)`` is the client's REST call on ``room.added`` (a room it did not
    have: its history and members come from the API, as they would for any client).
    """

    def __init__(self, state: State, me: int, load_room: Callable[[str], tuple[State, State]]):
        self.state = copy.deepcopy(state)
        self.me = me
        self.load_room = load_room

    def follows(self, room_id: int) -> bool:
        return any(room["id"] == room_id for room in self.state["rooms"].values())

    def apply(self, frame: Frame) -> None:
        handler = getattr(self, "on_" + frame["type"].replace(".", "_"))
        handler(frame)

    def finish(self) -> State:
        """The state with its derived parts (order, unread summary) worked out."""
        rooms = self.state["rooms"]
        # Newest activity first (last_message_at is the last message's created_at).
        order = sorted(
            rooms,
            key=lambda slug: (
                (rooms[slug]["last_message"] or {}).get("created_at") or "",
                rooms[slug]["created_at"],
            ),
            reverse=True,
        )
        self.state["order"] = active_order(rooms, order)
        listed = [
            {
                "room": slug,
                "unread": room["unread"],
                "mentions": room["mentions"],
                "last_read_seq": room["last_read_seq"] or 0,
            }
            for slug, room in rooms.items()
            if room["unread"]
        ]
        self.state["unread"] = _sorted_unread(
            {
                "total": sum(row["unread"] for row in listed),
                "mentions": sum(row["mentions"] for row in listed),
                "rooms": listed,
            }
        )
        return self.state

    # Room fields live twice: in the list entry and in the detail.
    def _room_views(self, slug: str) -> list[dict[str, Any]]:
        return [self.state["rooms"][slug], self.state["room"][slug]["detail"]]

    def _set(self, slug: str, /, **fields: Any) -> None:
        for view in self._room_views(slug):
            view.update(fields)

    # Messages: upsert by id, keep the newest event_seq (docs/protocol.md "resume and gaps").
    def _message(self, message: Frame) -> None:
        slug = message["room"]
        if slug not in self.state["rooms"]:
            return
        history = self.state["room"][slug]["history"]
        held = history.get(message["id"])
        if held is not None and held["event_seq"] >= message["event_seq"]:
            return
        message = _with_my_votes(message, held)
        history[message["id"]] = message
        self._quotes(history, message)
        self._notified_message(message)
        readers = self.state["room"][slug]["receipts"]["readers"]
        sender = message["sender"]["id"] if message["sender"] else None
        if held is None and sender in readers:
            # Sending reads the room up to one's own message, for receipts too.
            reader = readers[sender]
            reader["last_read_seq"] = max(reader["last_read_seq"], message["seq"])
        room = self.state["rooms"][slug]
        last_read = room["last_read_seq"] or 0
        if held is None and message["sender"] and message["sender"]["id"] == self.me:
            # Sending reads the room up to one's own message (no ``unread`` frame).
            last_read = max(last_read, message["seq"])
        latest = _room_list_copy(history[max(history, key=lambda pk: history[pk]["seq"])])
        fields: dict[str, Any] = {
            "last_seq": max(room["last_seq"], message["seq"]),
            "last_event_seq": max(room["last_event_seq"], message["event_seq"]),
            "last_message": latest,
            "last_read_seq": last_read,
            "unread": self._unread(slug, last_read),
            "mentions": self._unread(slug, last_read, mentions=True),
        }
        if held is None:
            # The pipeline stamps the room and the message with one instant.
            fields["last_message_at"] = message["created_at"]
        self._set(slug, **fields)

    @staticmethod
    def _quotes(history: dict[Any, Frame], parent: Frame) -> None:
        """The quotes of ``parent`` in its replies follow it (docs/protocol.md, "Replies")."""
        text = plain_text(parent["content_html"] or "")
        cut = text if len(text) <= 120 else text[:119] + "…"
        for held in history.values():
            reply = held.get("reply")
            if reply is not None and reply["id"] == parent["id"]:
                reply["is_deleted"] = parent["is_deleted"]
                reply["excerpt"] = None if parent["is_deleted"] else cut

    def _unread(self, slug: str, last_read: int, *, mentions: bool = False) -> int:
        """Others' undeleted messages after the read marker (docs/api.md, ``unread``);
        ``mentions``: those whose HTML mentions me or everyone (docs/protocol.md)."""
        return sum(
            1
            for m in self.state["room"][slug]["history"].values()
            if m["seq"] > last_read
            and not m["is_deleted"]
            and (m["sender"] is None or m["sender"]["id"] != self.me)
            and (not mentions or self._mentions_me(m))
        )

    def _mentions_me(self, message: Frame) -> bool:
        ids, everyone = mentioned_in(message["content_html"] or "")
        return everyone or self.me in ids

    def on_message_new(self, frame: Frame) -> None:
        self._message(frame["message"])
        self._announcement(frame["message"])

    def _announcement(self, message: Frame) -> None:
        """An announcement asking for acknowledgement: a member asked to (role member or
        read-only, not its author) has one more to acknowledge; a deleted one leaves the
        list and the moderators' lists. A new one's counts are fetched (who is asked is
        the server's to say)."""
        slug = message["room"]
        room = self.state["room"].get(slug)
        if room is None or not message["requires_ack"]:
            return
        mine = message["sender"] is not None and message["sender"]["id"] == self.me
        asked = room["detail"]["access"]["role"] in ("member", "read_only") and not mine
        pending = set(room["to_acknowledge"])
        if message["is_deleted"]:
            pending.discard(message["id"])
            room["acks"].pop(message["id"], None)
        elif asked:
            pending.add(message["id"])
        elif room["detail"]["access"]["role"] in ("moderator", "owner"):
            # A new announcement's lists: the moderators' client fetches them.
            room["acks"].setdefault(message["id"], UNKNOWN)
        room["to_acknowledge"] = sorted(pending)

    def on_announcement_acked(self, frame: Frame) -> None:
        room = self.state["room"].get(frame["room"])
        if room is not None:
            gone = frame["message_id"]
            room["to_acknowledge"] = [pk for pk in room["to_acknowledge"] if pk != gone]

    def on_announcement_acks(self, frame: Frame) -> None:
        room = self.state["room"].get(frame["room"])
        held = room["acks"].get(frame["message_id"]) if room is not None else None
        if held is None:
            return
        user = frame["user"]["id"]
        held["acked"], held["total"] = frame["acked"], frame["total"]
        held["pending"] = [pk for pk in held["pending"] if pk != user]
        held["acknowledged"] = sorted({*held["acknowledged"], user})

    def on_question_updated(self, frame: Frame) -> None:
        """A question's state (a new one: not voted by anyone, the reader included)."""
        room = self.state["room"].get(frame["room"])
        if room is not None:
            state = frame["question"]
            known = room["questions"].get(state["id"], {"voted": False})
            room["questions"][state["id"]] = {"state": state, "voted": known["voted"]}

    def on_question_voted(self, frame: Frame) -> None:
        room = self.state["room"].get(frame["room"])
        held = room["questions"].get(frame["message_id"]) if room is not None else None
        if held is not None:
            held["voted"] = frame["voted"]
            held["state"] = {**held["state"], "votes": frame["votes"]}

    def on_poll_updated(self, frame: Frame) -> None:
        """A poll's state now (docs/polls.md): the reader's own choice is kept, the
        message's change number moves."""
        slug = frame["room"]
        if slug not in self.state["rooms"]:
            return
        history = self.state["room"][slug]["history"]
        held = history.get(frame["message_id"])
        if held is None or held["event_seq"] >= frame["event_seq"]:
            return
        mine = (held["poll"] or {}).get("my_votes")
        held["poll"] = {**frame["poll"], "my_votes": mine}
        held["event_seq"] = frame["event_seq"]
        room = self.state["rooms"][slug]
        latest = history[max(history, key=lambda pk: history[pk]["seq"])]
        self._set(
            slug,
            last_event_seq=max(room["last_event_seq"], frame["event_seq"]),
            last_message=_room_list_copy(latest),
        )

    def on_poll_voted(self, frame: Frame) -> None:
        room = self.state["room"].get(frame["room"])
        held = room["history"].get(frame["message_id"]) if room is not None else None
        if held is not None and held["poll"] is not None:
            held["poll"]["my_votes"] = list(frame["option_ids"])

    def on_message_edited(self, frame: Frame) -> None:
        self._message(frame["message"])

    def on_message_deleted(self, frame: Frame) -> None:
        self._message(frame["message"])
        self._announcement(frame["message"])
        room = self.state["room"].get(frame["message"]["room"])
        if room is not None:  # A deleted question leaves the list (and its votes).
            room["questions"].pop(frame["message"]["id"], None)

    on_message_reactions = on_message_edited
    on_message_pinned = on_message_edited
    on_message_preview = on_message_edited

    def on_messages_purged(self, frame: Frame) -> None:
        """Drop what the purge deleted; replies lose their quote (docs/protocol.md,
        "Purged messages"); the room's counts and last message follow what is left."""
        slug = frame["room"]
        if slug not in self.state["rooms"]:
            return
        history = self.state["room"][slug]["history"]
        gone = {
            pk
            for pk, held in history.items()
            if held["seq"] <= frame["through_seq"] or held["seq"] in frame["seqs"]
        }
        for pk in gone:
            del history[pk]
        for held in history.values():
            if held["reply_to"] in gone:
                held["reply_to"] = None
                held["reply"] = None
        last_read = self.state["rooms"][slug]["last_read_seq"] or 0
        latest = history[max(history, key=lambda pk: history[pk]["seq"])] if history else None
        self._set(
            slug,
            last_message=latest,
            unread=self._unread(slug, last_read),
            mentions=self._unread(slug, last_read, mentions=True),
        )

    def on_notification(self, frame: Frame) -> None:
        held = self.state["notifications"]
        held["items"][frame["notification"]["id"]] = frame["notification"]
        held["unread"] = frame["unread"]

    def on_notifications_read(self, frame: Frame) -> None:
        held = self.state["notifications"]
        for pk, item in held["items"].items():
            if frame["all"] or pk in frame["ids"]:
                item["read"] = True
        held["unread"] = frame["unread"]

    def _notified_message(self, message: Frame) -> None:
        """A notified message changed: its notification shows its text as it is now (the
        client renders the excerpt from the message, as the server does)."""
        for item in self.state["notifications"]["items"].values():
            if item["message_id"] == message["id"]:
                text = "" if message["is_deleted"] else plain_text(message["content_html"] or "")
                item["excerpt"] = text if len(text) <= 140 else text[:139] + "…"

    def on_unread(self, frame: Frame) -> None:
        if frame["room"] in self.state["rooms"]:
            self._set(
                frame["room"],
                unread=frame["unread"],
                mentions=frame["mentions"],
                last_read_seq=frame["last_read_seq"],
            )

    # Participants and presence.
    def _refetch_receipts(self, slug: str) -> None:
        """NOT_IN_FRAMES["receipts"]: what a client asks the API again."""
        if slug in self.state["room"] and slug in self.state["rooms"]:
            self.state["room"][slug]["receipts"] = self.load_room(slug)[1]["receipts"]

    def on_receipt(self, frame: Frame) -> None:
        receipts = self.state["room"].get(frame["room"], {}).get("receipts")
        assert receipts is not None, "a receipt for a room the client does not have"
        assert receipts["enabled"], "a receipt where receipts are not shown"
        receipts["readers"][frame["user"]["id"]] = {
            "user": frame["user"],
            "last_read_seq": frame["last_read_seq"],
        }

    def on_participant_joined(self, frame: Frame) -> None:
        self._refetch_receipts(frame["room"])
        members = self.state["room"].get(frame["room"], {}).get("members")
        if members is None:
            return
        members[frame["user"]["id"]] = {
            "user": frame["user"],
            "role": frame["role"],
            "is_online": False,
            "last_seen": None,
            "joined_at": UNKNOWN,  # NOT_IN_FRAMES["members.joined_at"]
        }

    def on_participant_updated(self, frame: Frame) -> None:
        members = self.state["room"].get(frame["room"], {}).get("members", {})
        if frame["user"]["id"] in members:
            members[frame["user"]["id"]]["role"] = frame["role"]

    def on_participant_left(self, frame: Frame) -> None:
        if frame["user"]["id"] == self.me:
            self._drop(frame["room"])
            return
        self._refetch_receipts(frame["room"])
        members = self.state["room"].get(frame["room"], {}).get("members", {})
        members.pop(frame["user"]["id"], None)

    def on_presence(self, frame: Frame) -> None:
        members = self.state["room"].get(frame["room"], {}).get("members", {})
        member = members.get(frame["user"]["id"])
        if member is not None:
            member["is_online"] = frame["online"]
            member["last_seen"] = frame["last_seen"]

    def on_typing(self, frame: Frame) -> None:
        """Typing is shown for ``expires_in`` seconds and stored nowhere."""

    # Rooms.
    def on_room_updated(self, frame: Frame) -> None:
        data = frame["room"]
        if data["slug"] not in self.state["rooms"]:
            return
        changed = self.state["rooms"][data["slug"]]["read_receipts"] != data["read_receipts"]
        self._set(data["slug"], **{key: data[key] for key in ROOM_DATA_FIELDS})
        if changed:
            self._refetch_receipts(data["slug"])
        self._access(data["slug"])

    def _access(self, slug: str) -> None:
        """What the reader may do, from what the client holds: the role, the room's archived
        state and lock, their mute (docs/integration.md, "Access rules"; docs/moderation.md)."""
        detail = self.state["room"][slug]["detail"]
        access = detail["access"]
        role, archived = access["role"], detail["is_archived"]
        muted = access["muted_until"] is not None
        # A course room is read-only from its course's end (docs/terms.md), decided by
        # the clock: the client compares the end it holds with its own.
        ends_at = detail.get("ends_at")
        ended = ends_at is not None and parse_datetime(ends_at) <= timezone.now()
        moderator = role in ("moderator", "owner")
        access["can_react"] = (
            role not in (None, "read_only") and not archived and not muted and not ended
        )
        access["can_post"] = access["can_react"] and (moderator or not detail["is_locked"])
        access["can_moderate"] = moderator and not archived
        access["can_manage"] = moderator

    def on_moderation_notice(self, frame: Frame) -> None:
        """What a moderator did to the reader (banned and removed: ``room.removed`` follows)."""
        slug = frame["room"]
        if slug not in self.state["room"]:
            return
        access = self.state["room"][slug]["detail"]["access"]
        if frame["action"] == "muted":
            access["muted_until"] = frame["until"] or FOREVER
        elif frame["action"] == "unmuted":
            access["muted_until"] = None
        elif frame["action"] == "role":
            access["role"] = frame["role"]
            # What the reader sees of office hours follows the role (a teacher's queue):
            # fetched again (docs/protocol.md, "Office hours").
            self.state["room"][slug]["office_hours"] = self.load_room(slug)[1]["office_hours"]
        self._access(slug)

    # Office hours (docs/protocol.md, "Office hours").
    def _office_hours(self, slug: str) -> dict[str, Any] | None:
        held: dict[str, Any] | None = self.state["room"].get(slug, {}).get("office_hours")
        return held

    def on_office_hours_state(self, frame: Frame) -> None:
        held = self._office_hours(frame["room"])
        if held is None:
            return
        before = held["session"]
        if before is None or frame["session"] is None or before["id"] != frame["session"]["id"]:
            held["mine"] = None  # Another session: one's place in the last one is gone.
        held["session"] = frame["session"]
        if held["stats"] is not None or held["queue"] is not None:
            held["stats"] = UNKNOWN

    def on_office_hours_place(self, frame: Frame) -> None:
        held = self._office_hours(frame["room"])
        if held is not None:
            held["mine"] = frame["place"]

    def on_office_hours_queue(self, frame: Frame) -> None:
        held = self._office_hours(frame["room"])
        assert held is not None, "a queue for a room the client does not have"
        assert held["queue"] is not None, "a queue for a non-teacher"
        held["queue"] = frame["entries"]
        held["stats"] = UNKNOWN

    def on_room_added(self, frame: Frame) -> None:
        data = frame["room"]
        listed, loaded = self.load_room(data["slug"])
        assert {key: listed[key] for key in ROOM_DATA_FIELDS} == data, "room.added is stale"
        self.state["rooms"][data["slug"]] = listed
        self.state["room"][data["slug"]] = loaded

    def on_room_removed(self, frame: Frame) -> None:
        self._drop(frame["room"])

    def _drop(self, slug: str) -> None:
        self.state["rooms"].pop(slug, None)
        self.state["room"].pop(slug, None)


def room_loader(user: Any) -> Callable[[str], tuple[State, State]]:
    """The REST calls a client of ``user`` makes for a room it was just added to."""

    def load(slug: str) -> tuple[State, State]:
        client = APIClient()
        client.force_authenticate(user)
        rooms = _results(client, reverse("smartcampus_chat:api-room-list"))
        listed = next(room for room in rooms if room["slug"] == slug)
        return listed, fetch_room(client, slug)

    return load
