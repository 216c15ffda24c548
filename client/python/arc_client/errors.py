"""The one exception the client raises for a failed call or a failed job: :class:`ArcError`.

Status codes follow proto/arc/v1/arc_solver.proto: INVALID_ARGUMENT (a malformed task or option;
the message names the field, e.g. ``task.train[0].output: row 1 has 2 cells, expected 3``),
RESOURCE_EXHAUSTED (queue full; ``retry_after_ms`` says when to retry), DEADLINE_EXCEEDED,
CANCELLED, UNAVAILABLE (not ready, draining, or no server at the target), NOT_FOUND (unknown job),
FAILED_PRECONDITION (the task does not fit the model's context), INTERNAL.

Mistakes the client can see before any call (an unknown option name, a cell that is not a colour)
raise ``ValueError`` or ``TypeError`` instead, naming the option or the field.
"""
from __future__ import annotations

from typing import Dict, Optional

import grpc

_CODES_BY_NUMBER: Dict[int, grpc.StatusCode] = {c.value[0]: c for c in grpc.StatusCode}

RETRY_AFTER_KEY = "retry-after-ms"


def status_code(number: int) -> grpc.StatusCode:
    """The grpc.StatusCode of a google.rpc.Code number (UNKNOWN for numbers gRPC does not define)."""
    return _CODES_BY_NUMBER.get(number, grpc.StatusCode.UNKNOWN)


class ArcError(Exception):
    """A call or a job failed with a gRPC status.

    Attributes:
        code: the grpc.StatusCode, e.g. ``grpc.StatusCode.INVALID_ARGUMENT``.
        message: the server's message (for INVALID_ARGUMENT it names the field).
        retry_after_ms: for RESOURCE_EXHAUSTED, the delay the server asks for before a retry
            (its ``retry-after-ms`` trailer); None when it sent none.
    """

    def __init__(self, code: grpc.StatusCode, message: str, *,
                 retry_after_ms: Optional[int] = None) -> None:
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message
        self.retry_after_ms = retry_after_ms

    def __repr__(self) -> str:
        return f"ArcError({self.code.name}, {self.message!r})"

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> "ArcError":
        """The ArcError of a failed call (a grpc.RpcError that is also a grpc.Call)."""
        code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
        message = error.details() if hasattr(error, "details") else str(error)
        return cls(code or grpc.StatusCode.UNKNOWN, message or "", retry_after_ms=_retry_after(error))

    @classmethod
    def from_job_error(cls, code: int, message: str) -> "ArcError":
        """The ArcError of a job that failed or was cancelled (arc.v1.JobError)."""
        return cls(status_code(code), message)


def _retry_after(error: grpc.RpcError) -> Optional[int]:
    metadata = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
    for key, value in metadata or ():
        if key == RETRY_AFTER_KEY:
            try:
                return int(value)
            except ValueError:
                return None
    return None
