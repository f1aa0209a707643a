"""Evidence files (photos, documents): a blob store addressed by content hash.

A file is stored once under ``<blob_dir>/<aa>/<bb>/<sha256>``, whatever its name; the case
records only the reference (name, media type, SHA-256, size) in an ``EvidenceAttached``
event, so the hash chain covers the reference and ``audit verify`` can tell a file that
went missing or was replaced.

The media type is read from the file's first bytes (its "magic number"), never taken from
the client: a file whose content is not one of the allowed types is refused, and so is a
file over the size limit. A file is written to a temporary name in the same directory,
flushed to disk, then renamed into place, so a reader never sees half a file. A file
already present is left as it is: overwriting it would hide a replaced file from
``audit verify``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from uuid import UUID

from domain.errors import CaseNotFound, DomainError
from domain.values import Actor, Evidence, optional_text
from workflows import lifecycle

CHUNK = 1 << 16

# (offset, magic bytes, media type). WebP and HEIC need a second look, below.
_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"%PDF-", "application/pdf"),
)
_HEIC_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1")
_MP4_BRANDS = (b"isom", b"iso2", b"mp41", b"mp42", b"avc1", b"M4V ")

DEFAULT_MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic",
                       "application/pdf")


class EvidenceRejected(DomainError):
    """An upload that is too large, empty, or not of an allowed type (422 at the edge)."""


class EvidenceNotFound(CaseNotFound):
    """No stored file with this hash (404 at the edge, like a case out of reach)."""

    def __init__(self, sha256: str, why: str = "") -> None:
        DomainError.__init__(self, why or f"no evidence file {sha256}")
        self.case = None
        self.sha256 = sha256


def sniff(head: bytes) -> str | None:
    """The media type the first bytes of a file announce, or None when unknown."""
    for offset, magic, media_type in _MAGIC:
        if head[offset:offset + len(magic)] == magic:
            return media_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIC_BRANDS:
            return "image/heic"
        if brand in _MP4_BRANDS:
            return "video/mp4"
    return None


def is_sha256(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


@dataclass(frozen=True)
class FileCheck:
    """What ``audit verify`` found for one referenced file: ok, missing or replaced."""

    sha256: str
    status: str
    actual_sha256: str = ""


class BlobStore:
    """Files by SHA-256 under ``root``, with a size limit and a media-type allow-list."""

    def __init__(self, root: Path, max_bytes: int = 20 * 1024 * 1024,
                 media_types: Iterable[str] = DEFAULT_MEDIA_TYPES) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.media_types = frozenset(media_types)

    def path(self, sha256: str) -> Path:
        if not is_sha256(sha256):
            raise EvidenceNotFound(sha256, f"{sha256!r} is not a SHA-256 (64 lower-case hex)")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, stream: BinaryIO, name: str) -> Evidence:
        """Store the file read from ``stream``; its reference, for the case's record."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=self.root)
        try:
            with os.fdopen(fd, "wb") as out:
                digest, size, head = self._copy(stream, out, name)
                out.flush()
                os.fsync(out.fileno())
            media_type = self._check(name, size, head)
            target = self.path(digest)
            if target.exists():
                os.unlink(tmp)
                if self.check(digest).status != "ok":
                    # never overwritten (that would hide the replacement), and a new
                    # reference to it would point at a file nobody can be served
                    raise EvidenceRejected(
                        f"{name}: the stored copy of this file was altered or removed on "
                        "disk (`hazardflow audit verify` names it); it is kept as found, "
                        "so this upload is not recorded")
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.chmod(tmp, 0o444)
                os.replace(tmp, target)
                _fsync_dir(target.parent)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return Evidence(name=Path(name).name or digest, media_type=media_type, sha256=digest,
                        size=size)

    def _copy(self, stream: BinaryIO, out: BinaryIO, name: str) -> tuple[str, int, bytes]:
        hasher, size, head = hashlib.sha256(), 0, b""
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > self.max_bytes:
                raise EvidenceRejected(
                    f"{name} is larger than the limit of {self.max_bytes:,} bytes")
            if len(head) < 32:
                head += chunk[:32 - len(head)]
            hasher.update(chunk)
            out.write(chunk)
        return hasher.hexdigest(), size, head

    def _check(self, name: str, size: int, head: bytes) -> str:
        if size == 0:
            raise EvidenceRejected(f"{name} is empty")
        media_type = sniff(head)
        if media_type not in self.media_types:
            allowed = ", ".join(sorted(self.media_types))
            found = media_type or "not a recognised file type"
            raise EvidenceRejected(f"{name}: {found}; allowed are {allowed}")
        return media_type

    def open(self, sha256: str) -> BinaryIO:
        try:
            return self.path(sha256).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            # a directory where the file was, or a file where its folder was: no file
            raise EvidenceNotFound(sha256) from None

    def check(self, sha256: str) -> FileCheck:
        """Is the file for ``sha256`` there, and does its content still hash to it?"""
        try:
            with self.open(sha256) as stream:
                hasher = hashlib.sha256()
                while chunk := stream.read(CHUNK):
                    hasher.update(chunk)
        except EvidenceNotFound:
            return FileCheck(sha256, "missing")
        actual = hasher.hexdigest()
        return FileCheck(sha256, "ok" if actual == sha256 else "replaced", actual)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def attach(cases, blobs: BlobStore, ref: UUID | str, actor: Actor,  # type: ignore[no-untyped-def]
           files: Iterable[tuple[str, BinaryIO]], *, note: str = "",
           command_id: str | None = None, expected_version: int | None = None):
    """Store ``files`` and put their references on the case in one event.

    Returns the command's result and the references recorded.

    The caller's right to attach is checked before any byte is stored; a file stored for
    a command that then fails stays in the store unreferenced, which is harmless (the
    store is content-addressed) and never shown to anyone.
    """
    case = cases.get_case(ref)
    lifecycle.next_state(case.state, "attach_evidence", actor.role)
    optional_text(note, "the note")  # refused before any byte is stored, as the case would
    evidence: list[Evidence] = []
    for name, stream in files:
        stored = blobs.put(stream, name)
        if all(e.sha256 != stored.sha256 for e in evidence):  # one file given twice: once
            evidence.append(stored)
    result = cases.attach_evidence(case.id, actor, evidence=evidence, note=note,
                                   command_id=command_id, expected_version=expected_version)
    return result, evidence
