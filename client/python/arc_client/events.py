"""Progress events of a job (SolveStream and WatchJob), as plain Python objects.

A stream's events come in the order the server sends them: the queued position while the job
waits, each phase as it begins (search, ttt_data, ttt_train, inference, selection), TTT steps and
inference progress within their phases, and last either the result (``kind == "result"``) or the
job's error (``kind == "error"``: failed or cancelled). WatchJob starts with the job's current
state: its queued position, its current phase, or at once the final event of a finished job.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ._proto import arc_solver_pb2 as pb
from .errors import ArcError
from .results import SolveResult, phase_name

# Event kinds: the names of arc.v1.SolveEvent's `event` oneof, queued_position shortened.
QUEUED = "queued"
PHASE = "phase"
TTT_PROGRESS = "ttt_progress"
INFERENCE_PROGRESS = "inference_progress"
RESULT = "result"
ERROR = "error"


@dataclass(frozen=True)
class TttProgress:
    """One optimizer step of test-time training."""
    step: int
    total_steps: int
    loss: float
    learning_rate: float
    tokens: int


@dataclass(frozen=True)
class InferenceProgress:
    """Inference views decoded so far."""
    views_done: int
    views_total: int


@dataclass(frozen=True)
class Event:
    """One event; ``kind`` says which of the optional fields is set."""
    job_id: str
    kind: str                                       # QUEUED, PHASE, ..., RESULT, ERROR
    queued_position: Optional[int] = None           # QUEUED: jobs ahead of this one
    phase: Optional[str] = None                     # PHASE: the phase that began ("ttt_train")
    ttt_progress: Optional[TttProgress] = None      # TTT_PROGRESS
    inference_progress: Optional[InferenceProgress] = None  # INFERENCE_PROGRESS
    result: Optional[SolveResult] = None            # RESULT: the last event of a successful job
    error: Optional[ArcError] = field(default=None, compare=False)  # ERROR: the last otherwise

    @property
    def last(self) -> bool:
        """True for the final event of the job (result or error)."""
        return self.kind in (RESULT, ERROR)

    @classmethod
    def from_proto(cls, e: pb.SolveEvent) -> "Event":
        which = e.WhichOneof("event")
        if which == "queued_position":
            return cls(e.job_id, QUEUED, queued_position=e.queued_position)
        if which == "phase":
            return cls(e.job_id, PHASE, phase=phase_name(e.phase))
        if which == "ttt_progress":
            t = e.ttt_progress
            return cls(e.job_id, TTT_PROGRESS, ttt_progress=TttProgress(
                t.step, t.total_steps, t.loss, t.learning_rate, t.tokens))
        if which == "inference_progress":
            p = e.inference_progress
            return cls(e.job_id, INFERENCE_PROGRESS,
                       inference_progress=InferenceProgress(p.views_done, p.views_total))
        if which == "result":
            return cls(e.job_id, RESULT, result=SolveResult.from_proto(e.result))
        if which == "error":
            return cls(e.job_id, ERROR, error=ArcError.from_job_error(e.error.code, e.error.message))
        raise ValueError(f"SolveEvent of job {e.job_id!r} carries no event")
