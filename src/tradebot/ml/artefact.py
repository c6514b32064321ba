"""A fitted model's file: written once with its sha256, read back only if it still matches.

A joblib file is a pickle: loading it runs whatever code it holds. So the checksum is
verified *before* the file is loaded, and a file that changed since it was registered (edited,
damaged, swapped) is refused with an error naming the file and what to do.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import joblib

from tradebot.domain.errors import StateError
from tradebot.ml.models import Classifier

SUFFIX = ".joblib"


class ArtefactError(StateError):
    """A registered model's file is missing or is not the file that was registered."""


def file_sha256(path: Path) -> str:
    """The hex sha256 of the bytes of ``path``."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_artefact(model: Classifier, folder: Path, stem: str) -> tuple[str, str]:
    """Save ``model`` as ``folder/<stem>-<sha256[:12]>.joblib``; return its name and sha256.

    The checksum in the name keeps two databases sharing a folder (``data/a.db`` and
    ``data/b.db``, both with a model ``btc-1``) from overwriting each other's files. The file
    appears whole or not at all (written aside, then renamed).
    """
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{stem}{SUFFIX}.partial"
    joblib.dump(model, partial)
    sha256 = file_sha256(partial)
    target = folder / f"{stem}-{sha256[:12]}{SUFFIX}"
    partial.replace(target)
    return target.name, sha256


def read_artefact(path: Path, sha256: str, model_id: str) -> Classifier:
    """Load the model in ``path`` after checking that its sha256 is still ``sha256``.

    Raises:
        ArtefactError: the file is missing, or its bytes changed since it was registered.
    """
    if not path.is_file():
        msg = (
            f"model {model_id}: its file {path} is missing; restore it from a backup,"
            " or train the model again with `tradebot ml train`"
        )
        raise ArtefactError(msg)
    found = file_sha256(path)
    if found != sha256:
        msg = (
            f"model {model_id}: its file {path} has changed since it was registered"
            f" (sha256 {found[:16]}…, registered {sha256[:16]}…) and was not loaded;"
            " restore the original file, or train and register the model again with"
            " `tradebot ml train`"
        )
        raise ArtefactError(msg)
    model: Classifier = joblib.load(path)
    return model
