"""Files in the uploads folder that the index does not hold: what an interrupted upload leaves.

An upload copies files into the uploads folder and then ingests that folder; a process killed
in between leaves copies the index never took in (or a new version of a file whose old version
it holds). Nothing else would ever tell the user, and the next ingest of the folder would add
them unannounced. So they are found by comparing the folder with the index (a stored document's
fingerprint carries its file's digest), shown when the UI starts and in its index panel, and
added, by name, with the next upload (or by "Add to the index" with no new files).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from rag.ingest.loading import Skipped, discover
from rag.ingest.pipeline import holds_file
from rag.store.base import StoredDocument


def pending_uploads(folder: Path, documents: Mapping[str, StoredDocument]) -> list[Path]:
    """Files ingest would find in `folder` that `documents` (by source) lacks or holds another
    version of; resolved paths, as ingest records them."""
    if not folder.is_dir():
        return []
    return [item for item in discover([folder]) if not isinstance(item, Skipped)
            and not (str(item) in documents and holds_file(documents[str(item)].fingerprint, item))]


def upload_name(path: Path, folder: Path) -> str:
    """How a file in the uploads folder is named to the user (and matched to a new upload)."""
    try:
        return path.relative_to(folder.resolve()).as_posix()
    except ValueError:  # a symlink out of the folder: ingest records where it points
        return path.name


def pending_message(names: Sequence[str]) -> str:
    """One line saying what is pending and how it gets added."""
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return (f"{len(names)} file(s) in the uploads folder are not in the index (an upload did not finish): {shown};"
            " they are added with the next upload, or now with 'Add to the index'")
