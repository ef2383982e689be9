"""What an import reports: per file and in total (the ``--json`` output of ``cuishou import``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FileResult(BaseModel):
    """One input file: how it was read and what became of its rows.

    ``accepted + quarantined == rows`` always; ``created + updated + unchanged ==
    accepted``. For a payments file ``created`` counts payments posted and
    ``unchanged`` payments whose reference (流水号) was already posted.
    """

    path: str
    kind: str
    encoding: str
    rows: int = 0
    accepted: int = 0
    quarantined: int = 0
    quarantine_file: str | None = None
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ignored_columns: list[str] = Field(default_factory=list)
    creditor: str | None = None
    import_file_id: int | None = None
    seconds: float = 0.0


class FileError(BaseModel):
    """A file that could not be read at all; nothing of it was imported."""

    path: str
    code: str
    message: str


class ImportResult(BaseModel):
    """Totals over all files of one ``cuishou import`` call, and each file."""

    rows: int = 0
    accepted: int = 0
    quarantined: int = 0
    quarantine_file: str | list[str] | None = None
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    files: list[FileResult] = Field(default_factory=list)
    errors: list[FileError] = Field(default_factory=list)

    @classmethod
    def of(cls, files: list[FileResult], errors: list[FileError]) -> ImportResult:
        quarantine = [f.quarantine_file for f in files if f.quarantine_file]
        # One file: its quarantine file or null; several: the list of those written.
        single = quarantine[0] if quarantine else None
        chosen: str | list[str] | None = single if len(files) <= 1 else (quarantine or None)
        return cls(
            rows=sum(f.rows for f in files),
            accepted=sum(f.accepted for f in files),
            quarantined=sum(f.quarantined for f in files),
            quarantine_file=chosen,
            created=sum(f.created for f in files),
            updated=sum(f.updated for f in files),
            unchanged=sum(f.unchanged for f in files),
            files=files,
            errors=errors,
        )
