"""Kaggle submission files, in the format arc-solve and arc-client write (core/data/task_io.h)::

    {"<task id>": [{"attempt_1": G, "attempt_2": G}, ...one per test input], ...}

written compact with sorted keys, byte for byte what core's SubmissionToJson writes for the same
grids. A missing attempt becomes ``[[0]]`` (a submission needs a grid in every slot), as in
arc-client.
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping, Sequence

from .tasks import Grid

PLACEHOLDER: Grid = [[0]]


def submission_entry(predictions: Sequence[Any]) -> List[Dict[str, Grid]]:
    """One task's entry: per test input, its two attempts. ``predictions`` is a SolveResult or any
    sequence of objects with ``attempt_1`` and ``attempt_2`` (Prediction)."""
    return [{"attempt_1": p.attempt_1 if p.attempt_1 is not None else PLACEHOLDER,
             "attempt_2": p.attempt_2 if p.attempt_2 is not None else PLACEHOLDER}
            for p in predictions]


def write_submission(path: "str | os.PathLike[str]", results: Mapping[str, Sequence[Any]]) -> None:
    """Writes ``{task_id: SolveResult}`` (or task id -> sequence of Predictions) to ``path`` as a
    Kaggle submission. The file is replaced atomically (a temporary file, then a rename)."""
    data = {task_id: submission_entry(predictions) for task_id, predictions in results.items()}
    text = json.dumps(data, separators=(",", ":"), sort_keys=True)
    path = os.fspath(path)
    tmp = f"{path}.tmp.{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_submission(path: "str | os.PathLike[str]") -> Dict[str, List[Dict[str, Grid]]]:
    """A submission file as a dict (task id -> list of {"attempt_1", "attempt_2"})."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict):
        raise ValueError(f"{os.fspath(path)}: expected an object keyed by task id, "
                         f"got {type(data).__name__}")
    return data
