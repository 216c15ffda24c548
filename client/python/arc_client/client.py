"""Client: one channel to an arc-server and a method per arc.v1.ArcSolver RPC."""
from __future__ import annotations

from typing import Any, Callable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import grpc

from ._proto import arc_solver_pb2 as pb
from ._proto import arc_solver_pb2_grpc as pb_grpc
from .errors import ArcError
from .events import Event
from .options import solve_options
from .results import JOB_STATES, Job, ServerInfo, SolveResult
from .tasks import TaskLike, load_task, task_to_proto

Metadata = Union[Mapping[str, str], Sequence[Tuple[str, str]]]

MAX_RECEIVE_MESSAGE_BYTES = 64 << 20  # responses with include_views can be large (as arc-client)


class Client:
    """A connection to an arc-server (``host:port``, or any gRPC target such as ``unix:PATH``).

    Use it as a context manager (the channel closes on exit) or call :meth:`close`. ``timeout`` is
    the default deadline of every call in seconds (None: no deadline); each method's own
    ``timeout`` overrides it. For Solve and SolveStream the deadline is the job's: the server
    cancels the job when it passes. ``metadata`` is sent with every call (e.g.
    ``{"x-request-id": "..."}``). One Client may be shared by threads, as a gRPC channel may.

    Transport security (docs/SECURITY.md): ``root_certificates`` (PEM bytes of the CA that signed
    the server's certificate) turns TLS on, as does ``certificate_chain`` with ``private_key`` (PEM
    bytes of a client certificate, for a server that requires mutual TLS) or ``tls=True`` (the
    system roots); ``tls_server_name`` overrides the name the certificate is checked against.
    ``token`` is sent as ``authorization: Bearer TOKEN`` on every call (servers with
    ``--token_file``).

    Every failed call raises :class:`ArcError` with the gRPC status code and the server's message.
    """

    def __init__(self, target: str, *, timeout: Optional[float] = None,
                 metadata: Optional[Metadata] = None,
                 max_receive_message_bytes: int = MAX_RECEIVE_MESSAGE_BYTES,
                 root_certificates: Optional[bytes] = None,
                 private_key: Optional[bytes] = None,
                 certificate_chain: Optional[bytes] = None,
                 tls: bool = False,
                 tls_server_name: Optional[str] = None,
                 token: Optional[str] = None) -> None:
        if not target:
            raise ValueError("target: empty (expected host:port)")
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout: {timeout} is not a positive number of seconds")
        self.target = target
        self.timeout = timeout
        items = metadata.items() if isinstance(metadata, Mapping) else (metadata or ())
        pairs = [(k, v) for k, v in items]
        if token:
            pairs.append(("authorization", f"Bearer {token}"))
        self._metadata: Tuple[Tuple[str, str], ...] = tuple(pairs)
        if (private_key is None) != (certificate_chain is None):
            raise ValueError("private_key and certificate_chain go together (mutual TLS)")
        channel_options = [("grpc.max_receive_message_length", max_receive_message_bytes)]
        if tls_server_name:
            channel_options.append(("grpc.ssl_target_name_override", tls_server_name))
        if tls or root_certificates is not None or certificate_chain is not None or tls_server_name:
            credentials = grpc.ssl_channel_credentials(
                root_certificates=root_certificates, private_key=private_key,
                certificate_chain=certificate_chain)
            self._channel = grpc.secure_channel(target, credentials, options=channel_options)
        else:
            self._channel = grpc.insecure_channel(target, options=channel_options)
        self._stub = pb_grpc.ArcSolverStub(self._channel)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.target!r}, timeout={self.timeout!r})"

    def close(self) -> None:
        """Closes the channel; calls in flight are cancelled."""
        self._channel.close()

    # -- solving -----------------------------------------------------------------------------

    def solve(self, task: TaskLike, *, task_id: Optional[str] = None, request_id: str = "",
              timeout: Optional[float] = None, **options: Any) -> SolveResult:
        """Solves ``task`` (an ARC task dict or a task file's path) and returns, per test input,
        the ranked attempts (a :class:`SolveResult`: a sequence of Predictions).

        ``options`` are solve options by the option table's names (arc_client.options), e.g.
        ``experts="search"``, ``seed=3``, ``ttt_max_steps=8``, plus ``include_views=True``.
        ``task_id`` names the task in logs and the result (default: a file's name without
        ``.json``); ``request_id`` is the idempotency key (a retry with the same id gets the
        same job). Raises ValueError/TypeError for an unknown option or a grid the wire cannot
        carry, ArcError for everything the server refuses or a job that fails.
        """
        request = self._request(task, task_id, request_id, options)
        return SolveResult.from_proto(self._unary(self._stub.Solve, request, timeout))

    def solve_stream(self, task: TaskLike, *, task_id: Optional[str] = None, request_id: str = "",
                     timeout: Optional[float] = None, **options: Any) -> Iterator[Event]:
        """Solves ``task`` like :meth:`solve`, yielding its progress events in order; the last is
        the result (``event.kind == "result"``) or the job's error (``"error"``, with
        ``event.error`` an ArcError, not raised). The request is checked and the call starts when
        this is called; leaving the loop early cancels the call, and with it the job. A call the
        server refuses (e.g. INVALID_ARGUMENT) raises ArcError from the iteration."""
        request = self._request(task, task_id, request_id, options)
        return self._stream(self._stub.SolveStream, request, timeout)

    def submit(self, task: TaskLike, *, task_id: Optional[str] = None, request_id: str = "",
               timeout: Optional[float] = None, **options: Any) -> str:
        """Enqueues ``task`` (arguments as :meth:`solve`) and returns its job id at once; follow it
        with :meth:`watch`, :meth:`get` or :meth:`cancel`."""
        request = self._request(task, task_id, request_id, options)
        return self._unary(self._stub.SubmitTask, request, timeout).job_id

    # -- jobs --------------------------------------------------------------------------------

    def get(self, job_id: str, *, timeout: Optional[float] = None) -> Job:
        """The job's current state, with its result once it succeeded. ArcError NOT_FOUND for an
        unknown or expired id."""
        return Job.from_proto(self._unary(self._stub.GetJob, pb.GetJobRequest(job_id=job_id),
                                          timeout))

    def watch(self, job_id: str, *, timeout: Optional[float] = None) -> Iterator[Event]:
        """The job's events from now until it finishes: first its current state (queued
        position, current phase, or at once the final event of a finished job), last the result
        or the error event (not raised). Leaving the loop early stops watching, not the job."""
        return self._stream(self._stub.WatchJob, pb.WatchJobRequest(job_id=job_id), timeout)

    def cancel(self, job_id: str, *, timeout: Optional[float] = None) -> Job:
        """Cancels a queued or running job (a no-op for a finished one) and returns its state
        after the request; a running job stops within one training or decode step."""
        return Job.from_proto(self._unary(self._stub.CancelJob,
                                          pb.CancelJobRequest(job_id=job_id), timeout))

    def list_jobs(self, state: Optional[str] = None, limit: int = 0, *,
                  timeout: Optional[float] = None) -> List[Job]:
        """Jobs the server knows (queued, running, recently finished), newest first, without
        results. ``state`` filters by one of "queued", "running", "succeeded", "failed",
        "cancelled"; ``limit`` caps the count (0: the server's maximum)."""
        request = pb.ListJobsRequest(limit=limit)
        if state is not None:
            if state not in JOB_STATES:
                raise ValueError(f"state: {state!r} is not one of {', '.join(JOB_STATES)}")
            request.state = pb.JobState.Value("JOB_STATE_" + state.upper())
        response = self._unary(self._stub.ListJobs, request, timeout)
        return [Job.from_proto(j) for j in response.jobs]

    def info(self, *, timeout: Optional[float] = None) -> ServerInfo:
        """The server's model, setup, default solve options (by option name) and limits.
        ArcError UNAVAILABLE until the server has loaded its model."""
        return ServerInfo.from_proto(self._unary(self._stub.GetServerInfo,
                                                 pb.GetServerInfoRequest(), timeout))

    # -- plumbing ----------------------------------------------------------------------------

    def _request(self, task: TaskLike, task_id: Optional[str], request_id: str,
                 options: Mapping[str, Any]) -> pb.SolveRequest:
        message = solve_options(**options)
        data, default_id = load_task(task)
        return pb.SolveRequest(request_id=request_id, task=task_to_proto(data),
                               task_id=default_id if task_id is None else task_id,
                               options=message)

    def _deadline(self, timeout: Optional[float]) -> Optional[float]:
        return self.timeout if timeout is None else timeout

    def _unary(self, method: Callable[..., Any], request: Any, timeout: Optional[float]) -> Any:
        try:
            return method(request, timeout=self._deadline(timeout), metadata=self._metadata)
        except grpc.RpcError as e:
            raise ArcError.from_rpc_error(e) from None

    def _stream(self, method: Callable[..., Any], request: Any,
                timeout: Optional[float]) -> Iterator[Event]:
        call = method(request, timeout=self._deadline(timeout), metadata=self._metadata)
        return _events(call)


def _events(call: Any) -> Iterator[Event]:
    try:
        for message in call:
            yield Event.from_proto(message)
    except grpc.RpcError as e:
        raise ArcError.from_rpc_error(e) from None
    finally:
        call.cancel()  # a no-op once the stream has ended; otherwise the caller left early
