"""Where attachments are kept: the ``STORAGES`` alias ``ATTACHMENT_STORAGE`` (local files
by default, S3 and the like through django-storages; docs/attachments.md).

Names are random (:func:`new_name`): never the uploader's file name, so no name can
traverse a path, overwrite another file, or tell what a file is from its path.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from typing import IO

from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage, storages
from django.utils import timezone

from smartcampus_chat.conf import app_settings

logger = logging.getLogger(__name__)

#: The folder of the storage attachments are kept under.
FOLDER = "smartcampus_chat"


def storage() -> Storage:
    return storages[app_settings.ATTACHMENT_STORAGE]


def new_name() -> str:
    """A fresh random name: ``smartcampus_chat/2026/12/<32 hex digits>``."""
    return f"{FOLDER}/{timezone.now():%Y/%m}/{secrets.token_hex(16)}"


def save(name: str, content: bytes | IO[bytes]) -> str:
    """Store ``content`` (bytes, or a file read in chunks) as ``name``; the name stored."""
    body = ContentFile(content) if isinstance(content, bytes) else File(content)
    return storage().save(name, body)


def delete(names: Iterable[str]) -> None:
    """Remove stored files; one that is already gone is not an error."""
    store = storage()
    for name in names:
        try:
            store.delete(name)
        except FileNotFoundError:
            pass
        except OSError:
            logger.warning("Could not delete the stored file %s", name, exc_info=True)


def local_path(name: str) -> str | None:
    """The file's path on this machine, if the storage keeps files on a local disk."""
    try:
        return storage().path(name)
    except NotImplementedError:
        return None
