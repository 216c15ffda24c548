"""What the service answers, as plain Python objects: a solve's result (one Prediction per test
input, each with its two attempts and ranked candidates), a Job, the server's info.

Grids are lists of lists of ints, so they compare equal to the grids of a task dict
(``result[0].attempt_1 == task["test"][0]["output"]``). Every object keeps the message it came
from in ``proto`` for fields not mirrored here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union, overload

from google.protobuf import message as _message

from ._proto import arc_solver_pb2 as pb
from .errors import ArcError
from .options import options_from_proto
from .tasks import Grid, grid_from_proto


@dataclass(frozen=True)
class Candidate:
    """One distinct answer for a test input, in rank order."""
    grid: Grid
    votes: int                  # views whose inverted prediction equals this grid
    score: float                # product-of-experts log-likelihood (0 without it)
    expert: str                 # "search", "ttt" or "search+ttt"
    program: str                # search answers: the program, one line of DSL text
    explained: int              # search answers: demonstrations the program reproduces
    views: Tuple[str, ...]      # the views that produced it

    @classmethod
    def from_proto(cls, c: pb.Candidate) -> "Candidate":
        return cls(grid_from_proto(c.grid) or [], c.votes, c.score, c.expert, c.program,
                   c.explained, tuple(c.views))


@dataclass(frozen=True)
class ViewPrediction:
    """One inference view's raw prediction (only with ``include_views=True``)."""
    view: str                   # e.g. "s0/p1/transpose"
    category: str               # "identity" or the transform
    valid: bool
    output: Optional[Grid]      # inverted into the task's frame, when valid
    error: str                  # why it was rejected, when not valid


@dataclass(frozen=True)
class Prediction:
    """The answer for one test input: two attempts (pass@2) and the ranked candidates."""
    attempt_1: Optional[Grid]
    attempt_2: Optional[Grid]
    candidates: Tuple[Candidate, ...]
    num_views: int
    invalid_outputs: int
    leave_out: int
    views: Tuple[ViewPrediction, ...] = ()

    @property
    def attempts(self) -> List[Grid]:
        """The attempts that are present, first to second."""
        return [a for a in (self.attempt_1, self.attempt_2) if a is not None]

    @classmethod
    def from_proto(cls, p: pb.TestPrediction) -> "Prediction":
        views = tuple(ViewPrediction(v.view, v.category, v.valid, grid_from_proto(v.output), v.error)
                      for v in p.views)
        return cls(grid_from_proto(p.attempt_1), grid_from_proto(p.attempt_2),
                   tuple(Candidate.from_proto(c) for c in p.candidates), p.num_views,
                   p.invalid_outputs, p.leave_out, views)


@dataclass(frozen=True)
class SolveResult(Sequence[Prediction]):
    """A solved task: a sequence of Predictions, one per test input in order, plus the job's
    statistics. ``ttt``, ``search`` and ``timings`` are the TttStats, SearchStats and Timings
    messages as dicts of their fields (e.g. ``timings["total_seconds"]``, ``search["explained"]``)."""
    job_id: str
    task_id: str
    task_hash: str
    predictions: Tuple[Prediction, ...]
    ttt: Dict[str, Any]
    search: Dict[str, Any]
    timings: Dict[str, float]
    prompt_tokens: int
    generated_tokens: int
    proto: pb.SolveResponse = field(repr=False, compare=False)

    @overload
    def __getitem__(self, index: int) -> Prediction: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Prediction]: ...
    def __getitem__(self, index: Union[int, slice]) -> Any:
        return self.predictions[index]

    def __len__(self) -> int:
        return len(self.predictions)

    def __iter__(self) -> Iterator[Prediction]:
        return iter(self.predictions)

    @classmethod
    def from_proto(cls, r: pb.SolveResponse) -> "SolveResult":
        return cls(r.job_id, r.task_id, r.task_hash,
                   tuple(Prediction.from_proto(p) for p in r.predictions), scalar_fields(r.ttt),
                   scalar_fields(r.search), scalar_fields(r.timings), r.prompt_tokens,
                   r.generated_tokens, r)


JOB_STATES = ("queued", "running", "succeeded", "failed", "cancelled")
FINISHED_STATES = ("succeeded", "failed", "cancelled")


@dataclass(frozen=True)
class Job:
    """A job of the server's queue. ``state`` is one of JOB_STATES; ``phase`` a Phase name
    ("queued", "search", "ttt_data", "ttt_train", "inference", "selection", "done").
    ``result`` is set once succeeded (GetJob only; ListJobs and CancelJob omit it), ``error`` once
    failed or cancelled."""
    job_id: str
    request_id: str
    task_id: str
    task_hash: str
    state: str
    phase: str
    created_unix_ms: int
    started_unix_ms: int        # 0 until running
    finished_unix_ms: int       # 0 until finished
    result: Optional[SolveResult]
    error: Optional[ArcError] = field(compare=False)
    proto: pb.Job = field(repr=False, compare=False)

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_STATES

    @classmethod
    def from_proto(cls, j: pb.Job) -> "Job":
        result = SolveResult.from_proto(j.result) if j.HasField("result") else None
        error = (ArcError.from_job_error(j.error.code, j.error.message)
                 if j.HasField("error") else None)
        return cls(j.job_id, j.request_id, j.task_id, j.task_hash,
                   enum_name(pb.JobState, j.state, "JOB_STATE_"), phase_name(j.phase),
                   j.created_unix_ms, j.started_unix_ms, j.finished_unix_ms, result, error, j)


@dataclass(frozen=True)
class ServerInfo:
    """GetServerInfo: the model, the serving setup, and ``defaults``: every solve option's value
    on this server, by option name (``defaults["experts"] == "both"``)."""
    version: str
    model_name: str
    prompt_format: str          # "compact" or "marc"
    device: str                 # "cpu", "cuda:0"
    parameters: int
    context_tokens: int
    workers: int
    queue_capacity: int
    max_message_bytes: int
    defaults: Dict[str, Any]
    limits: str                 # human-readable summary of the option limits
    proto: pb.ServerInfo = field(repr=False, compare=False)

    @classmethod
    def from_proto(cls, s: pb.ServerInfo) -> "ServerInfo":
        return cls(s.version, s.model_name, s.prompt_format, s.device, s.parameters,
                   s.context_tokens, s.workers, s.queue_capacity, s.max_message_bytes,
                   options_from_proto(s.defaults), s.limits, s)


def phase_name(phase: int) -> str:
    """A Phase as the client names it: PHASE_TTT_TRAIN -> "ttt_train"."""
    return enum_name(pb.Phase, phase, "PHASE_")


def enum_name(enum: Any, number: int, prefix: str) -> str:
    """``enum``'s value name without ``prefix``, lower-case ("unspecified" for 0)."""
    try:
        name = enum.Name(number)
    except ValueError:
        return f"unknown_{number}"
    return name[len(prefix):].lower()


def scalar_fields(message: _message.Message) -> Dict[str, Any]:
    """Every scalar field of a message of scalars, by name, with Python types (int64 stays int)."""
    return {f.name: getattr(message, f.name) for f in message.DESCRIPTOR.fields}
