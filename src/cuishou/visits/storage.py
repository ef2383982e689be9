"""Visit files on disk, content-addressed: ``<files_dir>/<sha[:2]>/<sha256>``.

A file is written once (a second upload of the same bytes finds it there), through a
temporary name and an atomic rename, so a reader never sees half a file. Only JPEG, PNG and
PDF are kept, judged by their first bytes, not by the name or the browser's word.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from cuishou.kit.errors import InvalidInput, NotFound

MAX_BYTES = 10 * 1024 * 1024
#: leading bytes -> content type
MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)


def content_type_of(data: bytes) -> str:
    for magic, kind in MAGIC:
        if data.startswith(magic):
            return kind
    raise InvalidInput("file: only photos (JPEG, PNG) and PDF documents are kept", field="file")


def clean_name(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/")).strip() or "file"
    return "".join(ch for ch in base if ch.isprintable())[:200] or "file"


def path_of(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / sha256


def store(root: Path, data: bytes) -> tuple[str, str]:
    """Keep ``data``; returns (sha256, content type)."""
    if not data:
        raise InvalidInput("file: the file is empty", field="file")
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"file: at most {MAX_BYTES // (1024 * 1024)} MiB", field="file")
    kind = content_type_of(data)
    digest = hashlib.sha256(data).hexdigest()
    target = path_of(root, digest)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    return digest, kind


def read(root: Path, sha256: str) -> bytes:
    target = path_of(root, sha256)
    try:
        data = target.read_bytes()
    except FileNotFoundError:
        raise NotFound("the file is missing from the data dir") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise NotFound("the stored file does not match its content hash")
    return data
