"""Solve options as keyword arguments, mapped onto arc.v1.SolveOptions.

The names are the solve-option table's (core/solve/option_table.h), the same as arc-solve's and
arc-server's flags and arc-client's solve flags: ``experts="search"``, ``seed=3``, ``ttt_lr=1e-3``,
``ttt_max_steps=4``, ``views_transforms="all"``, ``lora_targets=["q_proj", "v_proj"]``.
The build writes that table next to this module as ``_option_table.json`` (option_table_json), so
the names, kinds, choices and proto paths here are never a second copy. Besides the table's
options, a request takes ``include_views`` (every view's raw prediction in the result).

Kinds: bool (True/False), int, uint (int >= 0), double (int or float), choice (one of the row's
choices, a string), list (a list of choices, or one comma-separated string). Unknown names raise
ValueError naming the option and the known ones; a wrong type raises TypeError, a value outside
the choices ValueError. Ranges are the server's to check (its limits may be tighter than the table):
it answers INVALID_ARGUMENT naming the field, e.g. ``options.search.max_depth: 9 is outside 1..4``.

A choice travels as the proto enum value whose name is the enum's name in upper snake case, "_",
and the choice in upper case (``experts="search"`` -> ``EXPERTS_SEARCH``).
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Sequence, Tuple

from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message

from ._proto import arc_solver_pb2 as pb

INCLUDE_VIEWS = "include_views"  # a request field outside the option table


@dataclass(frozen=True)
class OptionSpec:
    """One row of the solve-option table (core/solve/option_table.h)."""
    name: str
    kind: str            # "bool", "int", "uint", "double", "choice" or "list"
    default: Any         # the built-in default (a server's defaults: Client.info().defaults)
    lo: float
    hi: float
    bounds: str          # "closed", "open_low" or "open_high"
    choices: Tuple[str, ...]
    proto: str           # the field's path in arc.v1.SolveOptions; "" when not per request
    help: str


def _load_table() -> Dict[str, OptionSpec]:
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_option_table.json")
    with open(path, encoding="utf-8") as f:
        rows = json.load(f)
    return {r["name"]: OptionSpec(r["name"], r["kind"], r["default"], r["lo"], r["hi"], r["bounds"],
                                  tuple(c for c in r["choices"] if c), r["proto"], r["help"])
            for r in rows}


OPTIONS: Mapping[str, OptionSpec] = _load_table()


def solve_options(**options: Any) -> pb.SolveOptions:
    """The SolveOptions message for keyword options (see the module doc); unset fields stay unset,
    so the server's defaults apply to them."""
    out = pb.SolveOptions()
    for name, value in options.items():
        if name == INCLUDE_VIEWS:
            out.include_views = _check_bool(name, value)
            continue
        spec = _spec(name)
        parent, field = _field(out, spec.proto)
        try:
            _put(spec, parent, field, value)
        except (TypeError, ValueError) as e:
            if str(e).startswith(f"solve option {name}:"):
                raise
            raise type(e)(f"solve option {name}: {e}") from None
    return out


def options_from_proto(message: pb.SolveOptions) -> Dict[str, Any]:
    """The table's options set in ``message``, by name (ServerInfo.defaults sets every one)."""
    out: Dict[str, Any] = {}
    for spec in OPTIONS.values():
        if not spec.proto:
            continue
        parent, field = _field(message, spec.proto)
        if field.label == field.LABEL_REPEATED:
            if getattr(parent, field.name):
                out[spec.name] = list(getattr(parent, field.name))
        elif field.enum_type is not None:
            number = getattr(parent, field.name)
            if number != 0:
                name = field.enum_type.values_by_number[number].name
                out[spec.name] = name[len(_enum_prefix(field.enum_type)):].lower()
        elif parent.HasField(field.name):
            out[spec.name] = getattr(parent, field.name)
    return out


def _spec(name: str) -> OptionSpec:
    spec = OPTIONS.get(name)
    if spec is None:
        known = ", ".join(sorted([n for n, s in OPTIONS.items() if s.proto] + [INCLUDE_VIEWS]))
        raise ValueError(f"unknown solve option {name!r} (known: {known})")
    if not spec.proto:
        raise ValueError(f"solve option {name!r} cannot be set per request "
                         f"(it is an arc-server flag only)")
    return spec


def _field(root: _message.Message,
           path: str) -> Tuple[_message.Message, _descriptor.FieldDescriptor]:
    """The message holding the field at ``path`` (``ttt_options.learning_rate``) and the field."""
    parts = path.split(".")
    parent = root
    for part in parts[:-1]:
        parent = getattr(parent, part)
    return parent, parent.DESCRIPTOR.fields_by_name[parts[-1]]


def _put(spec: OptionSpec, parent: _message.Message, field: _descriptor.FieldDescriptor,
         value: Any) -> None:
    name = spec.name
    if spec.kind == "bool":
        setattr(parent, field.name, _check_bool(name, value))
    elif spec.kind in ("int", "uint"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"solve option {name}: expected an int, got {_show(value)}")
        if spec.kind == "uint" and value < 0:
            raise ValueError(f"solve option {name}: {value} is negative")
        setattr(parent, field.name, value)
    elif spec.kind == "double":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"solve option {name}: expected a number, got {_show(value)}")
        setattr(parent, field.name, float(value))
    elif spec.kind == "choice":
        choice = _check_choice(spec, value)
        prefix = _enum_prefix(field.enum_type)
        setattr(parent, field.name, field.enum_type.values_by_name[prefix + choice.upper()].number)
    elif spec.kind == "list":
        items = _list_items(name, value)
        for item in items:
            _check_choice(spec, item)
        getattr(parent, field.name)[:] = items
    else:
        raise ValueError(f"solve option {name}: unknown kind {spec.kind!r} in the option table")


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"solve option {name}: expected True or False, got {_show(value)}")
    return value


def _check_choice(spec: OptionSpec, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"solve option {spec.name}: expected a string, got {_show(value)}")
    if value not in spec.choices:
        raise ValueError(f"solve option {spec.name}: {value!r} is not one of "
                         f"{', '.join(spec.choices)}")
    return value


def _list_items(name: str, value: Any) -> List[str]:
    if isinstance(value, str):
        return [v for v in value.split(",") if v]
    if isinstance(value, Sequence) and not isinstance(value, bytes):
        return list(value)
    raise TypeError(f"solve option {name}: expected a list of strings, got {_show(value)}")


def _enum_prefix(enum_type: _descriptor.EnumDescriptor) -> str:
    """The prefix of an enum's value names: ViewTransforms -> VIEW_TRANSFORMS_ (option_table.h)."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", enum_type.name).upper() + "_"


def _show(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"
