"""The Python client (client/python/arc_client) against a live arc-server (conftest.py): solving,
options, errors, jobs, streaming, server info and submission files.

Fast settings throughout: the program search explains examples/flip.json (a left-right flip) at
once, and the TTT runs use a handful of samples and steps of the 3.17M-parameter embedded model.
"""
from __future__ import annotations

import copy
import json
import os
import socket
import subprocess
import time

import grpc
import pytest

import arc_client
from arc_client import ArcError, Client

from conftest import SERVER_QUEUE_CAPACITY, SERVER_SEED, SOURCE_DIR

# A few seconds of TTT on the embedded model: 8 samples, 3 steps, paper views of one order.
TINY_TTT = dict(experts="ttt", ttt_max_samples=8, ttt_augment=False, ttt_permute_n=0,
                ttt_max_steps=3, ttt_batch_size=2, views_permutations=0)
# A job that trains for minutes unless cancelled (the server's step limit is 1000).
LONG_TTT = dict(experts="ttt", ttt_max_samples=250, ttt_augment=True, ttt_batch_size=1,
                ttt_epochs=100, ttt_max_steps=1000)
# The order in which a solve's phases begin.
PHASE_ORDER = ["search", "ttt_data", "ttt_train", "inference", "selection", "done"]


def expected_output(task: dict, i: int = 0) -> list:
    return task["test"][i]["output"]


def wait_until_finished(client: Client, job_id: str, seconds: float = 30) -> arc_client.Job:
    end = time.monotonic() + seconds
    while True:
        job = client.get(job_id)
        if job.finished or time.monotonic() > end:
            return job
        time.sleep(0.05)


# ------------------------------------------------------------------------------------------------
# solve


def test_solve_flip_file_returns_the_right_answer(client, flip, flip_path):
    result = client.solve(flip_path, experts="search")

    assert len(result) == 1
    prediction = result[0]
    assert prediction.attempt_1 == expected_output(flip)
    best = prediction.candidates[0]
    assert best.grid == expected_output(flip)
    assert best.expert == "search"
    assert best.program, "a search answer carries its program"
    assert best.explained == len(flip["train"])
    assert result.task_id == "flip"          # the file's name
    assert result.search["explained"] is True
    assert result.ttt["enabled"] is False
    assert result.timings["total_seconds"] > 0
    assert result.job_id


def test_solve_task_dict_by_default_options(client, flip):
    # The server's defaults (experts=both): the search explains the task and TTT is skipped.
    result = client.solve(flip, task_id="flip-dict")

    assert result.task_id == "flip-dict"
    assert result[0].attempt_1 == expected_output(flip)
    assert result.search["ttt_skipped"] is True


def test_options_change_what_the_server_does(client, flip):
    # experts=ttt with ttt=False: the paper's no-TTT baseline, no search; include_views returns
    # every view's raw prediction.
    result = client.solve(flip, experts="ttt", ttt=False, views_permutations=0,
                          views_transforms="none", include_views=True, seed=5)

    assert result.search["enabled"] is False
    assert result.ttt["enabled"] is False
    prediction = result[0]
    assert prediction.num_views >= 1
    assert len(prediction.views) == prediction.num_views
    assert all(v.category == "identity" for v in prediction.views)   # views_transforms="none"
    assert all(c.expert == "ttt" for c in prediction.candidates)
    plain = client.solve(flip, experts="ttt", ttt=False, views_permutations=0,
                         views_transforms="none", seed=5)
    assert plain[0].views == ()


def test_out_of_range_option_is_the_servers_invalid_argument(client, flip):
    with pytest.raises(ArcError) as e:
        client.solve(flip, search_depth=9)
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "options.search.max_depth" in e.value.message
    assert "9" in e.value.message


def test_solve_options_map_onto_the_proto_fields():
    message = arc_client.solve_options(experts="search", seed=3, ttt_lr=1e-3, ttt_max_steps=4,
                                       views_transforms="all", lora_targets=["q_proj", "v_proj"],
                                       search_work=7, skip_ttt_when_explained=False,
                                       include_views=True)
    assert message.experts == message.DESCRIPTOR.fields_by_name["experts"].enum_type \
        .values_by_name["EXPERTS_SEARCH"].number
    assert message.seed == 3
    assert message.ttt_options.learning_rate == pytest.approx(1e-3)
    assert message.ttt_options.max_steps == 4
    assert message.inference.transforms == 2           # VIEW_TRANSFORMS_ALL
    assert list(message.ttt_options.lora_targets) == ["q_proj", "v_proj"]
    assert message.search.work_millions == 7
    assert message.search.HasField("skip_ttt_when_explained")
    assert message.search.skip_ttt_when_explained is False
    assert message.include_views is True
    assert not message.ttt_options.HasField("epochs")   # unset options stay unset
    # and back: every option set above, by its name
    assert arc_client.options.options_from_proto(message) == {
        "experts": "search", "seed": 3, "ttt_lr": pytest.approx(1e-3), "ttt_max_steps": 4,
        "views_transforms": "all", "lora_targets": ["q_proj", "v_proj"], "search_work": 7,
        "skip_ttt_when_explained": False}


@pytest.mark.parametrize("options, error, words", [
    (dict(ttt_learning_rate=1e-3), ValueError, ["unknown solve option 'ttt_learning_rate'",
                                                "ttt_lr"]),
    (dict(full_finetune=True), ValueError, ["'full_finetune' cannot be set per request"]),
    (dict(experts="everything"), ValueError, ["experts", "'everything' is not one of both, search, ttt"]),
    (dict(lora_targets=["q_proj", "x_proj"]), ValueError, ["lora_targets", "'x_proj'"]),
    (dict(ttt="yes"), TypeError, ["solve option ttt", "True or False"]),
    (dict(ttt_max_steps=2.5), TypeError, ["solve option ttt_max_steps", "expected an int"]),
    (dict(seed=-1), ValueError, ["solve option seed", "negative"]),
    (dict(search_depth=2**40), ValueError, ["solve option search_depth"]),
])
def test_bad_options_are_refused_before_any_call(options, error, words, flip):
    # A client whose target does not exist: nothing may be sent.
    with Client("127.0.0.1:1") as c:
        with pytest.raises(error) as e:
            c.solve(flip, **options)
    for w in words:
        assert w in str(e.value)


# ------------------------------------------------------------------------------------------------
# errors


def test_invalid_task_is_invalid_argument_naming_the_field(client, flip):
    ragged = copy.deepcopy(flip)
    ragged["train"][1]["output"] = [[4, 0], [0, 5, 1], [5, 5]]
    with pytest.raises(ArcError) as e:
        client.solve(ragged)
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert e.value.message.startswith("task.train[1].output"), e.value.message
    assert "row 1 has 3 cells, expected 2" in e.value.message
    assert str(e.value).startswith("INVALID_ARGUMENT: task.train[1].output")

    no_tests = {"train": flip["train"]}
    with pytest.raises(ArcError) as e:
        client.solve(no_tests)
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert e.value.message.startswith("task.test"), e.value.message

    no_output = copy.deepcopy(flip)
    del no_output["train"][2]["output"]
    with pytest.raises(ArcError) as e:
        client.submit(no_output)
    assert e.value.message == "task.train[2].output: required"


def test_cells_the_wire_cannot_carry_are_refused_locally(flip):
    bad = copy.deepcopy(flip)
    bad["test"][0]["input"][2][1] = 12
    with Client("127.0.0.1:1") as c:
        with pytest.raises(ValueError, match=r"task\.test\[0\]\.input\[2\]\[1\]: 12 is not a colour 0\.\.9"):
            c.solve(bad)
        bad["test"][0]["input"][2][1] = "3"
        with pytest.raises(TypeError, match=r"task\.test\[0\]\.input\[2\]\[1\]: expected a colour"):
            c.solve(bad)
        with pytest.raises(TypeError, match="expected a dict or a file path"):
            c.solve([flip])


def test_unknown_job_is_not_found(client):
    with pytest.raises(ArcError) as e:
        client.get("no-such-job")
    assert e.value.code == grpc.StatusCode.NOT_FOUND


def test_no_server_is_unavailable(flip):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with Client(f"127.0.0.1:{port}", timeout=5) as c:
        with pytest.raises(ArcError) as e:
            c.info()
    assert e.value.code == grpc.StatusCode.UNAVAILABLE


# ------------------------------------------------------------------------------------------------
# jobs


def test_submit_watch_get(client, flip):
    job_id = client.submit(flip, task_id="flip-job", experts="search")
    events = list(client.watch(job_id))

    assert events, "watch yields at least the final event"
    assert all(e.job_id == job_id for e in events)
    assert events[-1].kind == "result"
    assert [e for e in events if e.last] == [events[-1]]
    assert events[-1].result[0].attempt_1 == expected_output(flip)

    job = client.get(job_id)
    assert job.state == "succeeded" and job.finished
    assert job.task_id == "flip-job"
    assert job.result is not None and job.result[0].attempt_1 == expected_output(flip)
    assert job.error is None
    assert 0 < job.created_unix_ms <= job.started_unix_ms <= job.finished_unix_ms
    # Watching a finished job: its final event at once.
    again = list(client.watch(job_id))
    assert [e.kind for e in again] == ["result"]


def test_cancel_running_and_queued_jobs(client, flip):
    running = client.submit(flip, task_id="long", **LONG_TTT)
    queued = client.submit(flip, task_id="behind", **LONG_TTT)   # one worker: it waits
    assert client.get(queued).state == "queued"

    after = client.cancel(queued)
    assert after.job_id == queued
    assert wait_until_finished(client, queued).state == "cancelled"
    client.cancel(running)
    job = wait_until_finished(client, running)
    assert job.state == "cancelled"
    assert job.error is not None and job.error.code == grpc.StatusCode.CANCELLED
    assert "CancelJob" in job.error.message
    # Watching it now: the error event alone, not raised.
    events = list(client.watch(running))
    assert [e.kind for e in events] == ["error"]
    assert events[0].error.code == grpc.StatusCode.CANCELLED


def test_request_id_makes_submit_idempotent(client, flip):
    first = client.submit(flip, request_id="py-client-test-idempotent", experts="search")
    second = client.submit(flip, request_id="py-client-test-idempotent", experts="search")
    assert first == second
    assert client.get(first).request_id == "py-client-test-idempotent"
    wait_until_finished(client, first)


def test_list_jobs(client, flip):
    ids = [client.submit(flip, task_id=f"listed-{i}", experts="search") for i in range(2)]
    for job_id in ids:
        assert wait_until_finished(client, job_id).state == "succeeded"

    jobs = client.list_jobs()
    listed = [j.job_id for j in jobs]
    assert set(ids) <= set(listed)
    assert listed.index(ids[1]) < listed.index(ids[0])           # newest first
    created = [j.created_unix_ms for j in jobs]
    assert created == sorted(created, reverse=True)
    assert all(j.result is None for j in jobs)                    # ListJobs omits results
    assert len(client.list_jobs(limit=1)) == 1
    succeeded = client.list_jobs(state="succeeded")
    assert succeeded and all(j.state == "succeeded" for j in succeeded)
    assert set(ids) <= {j.job_id for j in succeeded}
    with pytest.raises(ValueError, match="state: 'done' is not one of queued, running"):
        client.list_jobs(state="done")


# ------------------------------------------------------------------------------------------------
# streaming


def test_solve_stream_events_arrive_in_order(client, flip):
    events = list(client.solve_stream(flip, seed=2, **TINY_TTT))

    assert len({e.job_id for e in events}) == 1
    kinds = [e.kind for e in events]
    assert kinds[-1] == "result", kinds
    assert kinds.count("result") == 1 and "error" not in kinds
    phases = [e.phase for e in events if e.kind == "phase"]
    assert phases == sorted(phases, key=PHASE_ORDER.index), phases
    assert len(set(phases)) == len(phases)
    assert {"ttt_data", "ttt_train", "inference"} <= set(phases)
    assert "search" not in phases                                  # experts="ttt"
    # TTT steps 1..3, all after the ttt_train phase began and before inference.
    steps = [e.ttt_progress.step for e in events if e.kind == "ttt_progress"]
    assert steps == [1, 2, 3]
    first_step = kinds.index("ttt_progress")
    assert phases and events.index(next(e for e in events if e.phase == "ttt_train")) < first_step
    inference_at = events.index(next(e for e in events if e.phase == "inference"))
    assert max(i for i, k in enumerate(kinds) if k == "ttt_progress") < inference_at
    done = [e.inference_progress.views_done for e in events if e.kind == "inference_progress"]
    assert done == sorted(done) and done and done[-1] == events[-1].result[0].num_views
    result = events[-1].result
    assert result.ttt["enabled"] is True and result.ttt["steps"] == 3
    assert all(c.expert == "ttt" for c in result[0].candidates)


def test_solve_stream_search_ends_with_the_answer(client, flip):
    events = list(client.solve_stream(flip, experts="search"))
    assert "search" in [e.phase for e in events]
    assert events[-1].kind == "result"
    assert events[-1].result[0].attempt_1 == expected_output(flip)


def test_solve_stream_refused_call_raises(client, flip):
    bad = copy.deepcopy(flip)
    bad["test"][0]["input"] = []
    stream = client.solve_stream(bad)
    with pytest.raises(ArcError) as e:
        next(stream)
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert e.value.message.startswith("task.test[0].input"), e.value.message


# ------------------------------------------------------------------------------------------------
# server info


def test_info(client):
    info = client.info()
    assert info.model_name
    assert info.device == "cpu"
    assert info.parameters > 1_000_000
    assert info.workers == 1
    assert info.queue_capacity == SERVER_QUEUE_CAPACITY
    assert info.limits
    # Every per-request option is in the defaults, by name: a flag, the model's
    # solve_options.json, or the built-in value, in that order of precedence.
    per_request = {name for name, spec in arc_client.OPTIONS.items() if spec.proto}
    assert set(info.defaults) == per_request
    assert info.defaults["seed"] == SERVER_SEED                   # --seed
    with open(SOURCE_DIR / "models" / "default" / "solve_options.json", encoding="utf-8") as f:
        model_options = json.load(f)
    for name, value in model_options.items():
        assert info.defaults[name] == pytest.approx(value), name
    assert info.defaults["experts"] == arc_client.OPTIONS["experts"].default   # built-in
    assert info.defaults["lora_targets"] == arc_client.OPTIONS["lora_targets"].default.split(",")


# ------------------------------------------------------------------------------------------------
# submissions


def test_submission_written_and_reread(client, flip, flip_path, tmp_path):
    result = client.solve(flip_path, experts="search")
    path = tmp_path / "submission.json"
    arc_client.write_submission(path, {"flip": result})

    data = arc_client.read_submission(path)
    assert list(data) == ["flip"]
    assert len(data["flip"]) == 1
    assert data["flip"][0]["attempt_1"] == expected_output(flip)
    assert data["flip"][0]["attempt_2"] == (result[0].attempt_2 or [[0]])
    assert not list(tmp_path.glob("*.tmp.*")), "no temporary file left"


def test_missing_attempts_become_placeholders(tmp_path):
    prediction = arc_client.Prediction([[1, 2]], None, (), 0, 0, 0)
    path = tmp_path / "s.json"
    arc_client.write_submission(path, {"b": [prediction], "a": [prediction, prediction]})
    assert path.read_text() == ('{"a":[{"attempt_1":[[1,2]],"attempt_2":[[0]]},'
                                '{"attempt_1":[[1,2]],"attempt_2":[[0]]}],'
                                '"b":[{"attempt_1":[[1,2]],"attempt_2":[[0]]}]}')


def test_submission_matches_arc_client_eval_byte_for_byte(client, server, flip_path, tmp_path):
    binary = os.environ.get("ARC_CLIENT_BIN")
    if not binary:
        pytest.skip("ARC_CLIENT_BIN is not set (ctest sets it)")
    theirs = tmp_path / "arc-client.json"
    run = subprocess.run([binary, "--server", server.target, "eval", str(flip_path),
                          "--out", str(theirs), "--experts", "search"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    ours = tmp_path / "python.json"
    arc_client.write_submission(ours, {"flip": client.solve(flip_path, experts="search")})
    assert ours.read_bytes() == theirs.read_bytes()
