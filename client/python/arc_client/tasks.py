"""ARC tasks and grids on the wire.

A task is the ARC JSON layout (core/data/task_io.h)::

    {"train": [{"input": G, "output": G}, ...], "test": [{"input": G, "output": G?}, ...]}

where a grid G is a list of rows, each a list of colours 0..9. A task is given either as that
dict or as the path of a task file (its id is then the file name without ``.json``).

Only what the wire cannot carry is checked here: a grid must be a list of lists of ints 0..9
(each row travels as a string of digits). Everything else (ragged or empty grids, sizes over 30,
counts of demonstrations and test inputs, missing outputs) is the server's to judge: it answers
INVALID_ARGUMENT naming the field (``task.train[0].output: row 1 has 2 cells, expected 3``).
"""
from __future__ import annotations

import json
import os
from typing import Any, List, Mapping, Optional, Sequence, Tuple, Union

from ._proto import arc_solver_pb2 as pb

Grid = List[List[int]]
TaskLike = Union[Mapping[str, Any], str, "os.PathLike[str]"]

_DIGITS = "0123456789"


def load_task(task: TaskLike) -> Tuple[Mapping[str, Any], str]:
    """The task as a dict and its default id: a file's name without ``.json``, "" for a dict.

    Raises:
        TypeError: ``task`` is neither a mapping nor a path.
        OSError: the file cannot be read.
        ValueError: the file is not JSON (json.JSONDecodeError, naming the file).
    """
    if isinstance(task, Mapping):
        return task, ""
    if isinstance(task, (str, os.PathLike)):
        path = os.fspath(task)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: not a JSON task file: {e}") from None
        if not isinstance(data, Mapping):
            raise ValueError(f"{path}: expected a task object, got {type(data).__name__}")
        stem = os.path.basename(path)
        return data, stem[:-5] if stem.endswith(".json") else stem
    raise TypeError(f"task: expected a dict or a file path, got {type(task).__name__}")


def grid_to_proto(grid: Sequence[Sequence[int]], path: str) -> pb.Grid:
    """The wire grid (one digit string per row); ``path`` names the grid in errors.

    Raises:
        TypeError: the grid is not a list of lists of ints.
        ValueError: a cell is not a colour 0..9 (``task.test[0].input[1][2]: 12 is not a colour 0..9``).
    """
    if isinstance(grid, (str, bytes)) or not isinstance(grid, Sequence):
        raise TypeError(f"{path}: expected a list of rows, got {type(grid).__name__}")
    rows = []
    for r, row in enumerate(grid):
        if isinstance(row, (str, bytes)) or not isinstance(row, Sequence):
            raise TypeError(f"{path}[{r}]: expected a list of colours, got {type(row).__name__}")
        rows.append("".join(_digit(cell, f"{path}[{r}][{c}]") for c, cell in enumerate(row)))
    return pb.Grid(rows=rows)


def _digit(cell: Any, path: str) -> str:
    if isinstance(cell, bool) or not isinstance(cell, int):
        raise TypeError(f"{path}: expected a colour 0..9, got {type(cell).__name__} {cell!r}")
    if not 0 <= cell <= 9:
        raise ValueError(f"{path}: {cell} is not a colour 0..9")
    return _DIGITS[cell]


def grid_from_proto(grid: pb.Grid) -> Optional[Grid]:
    """The grid as a list of lists of ints; None for an absent (empty) grid."""
    if not grid.rows:
        return None
    return [[int(c) for c in row] for row in grid.rows]


def task_to_proto(task: Mapping[str, Any]) -> pb.Task:
    """The wire task. Missing keys stay unset, so that the server names them."""
    out = pb.Task()
    for i, example in enumerate(_pairs(task, "train")):
        x = out.train.add()
        _set_grid(x.input, example, "input", f"task.train[{i}]")
        _set_grid(x.output, example, "output", f"task.train[{i}]")
    for i, test in enumerate(_pairs(task, "test")):
        x = out.test.add()
        _set_grid(x.input, test, "input", f"task.test[{i}]")
        _set_grid(x.output, test, "output", f"task.test[{i}]")
    return out


def _pairs(task: Mapping[str, Any], key: str) -> Sequence[Mapping[str, Any]]:
    pairs = task.get(key, [])
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Sequence):
        raise TypeError(f"task.{key}: expected a list, got {type(pairs).__name__}")
    for i, pair in enumerate(pairs):
        if not isinstance(pair, Mapping):
            raise TypeError(f"task.{key}[{i}]: expected an object, got {type(pair).__name__}")
    return pairs


def _set_grid(target: pb.Grid, pair: Mapping[str, Any], key: str, path: str) -> None:
    if pair.get(key) is not None:
        target.SetInParent()  # present even when empty, so that the server says "empty grid"
        target.MergeFrom(grid_to_proto(pair[key], f"{path}.{key}"))
