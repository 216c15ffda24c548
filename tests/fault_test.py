"""Fault tests of arc-server and arc-client as subprocesses (ctest fault_test, label fault), each
well under a minute on the tiny model:

  overload      more clients than workers + queue at once: every call is answered (queue full is
                RESOURCE_EXHAUSTED with retry-after-ms, arc-client retries), no accepted job lost
  sigterm       SIGTERM while a job trains: the drain cancels it at --drain_timeout with a clear
                UNAVAILABLE, the process exits 0
  failover      two servers; the one running a Solve is SIGKILLed; arc-client retries the same
                request id on the other and succeeds
  caps          a request at every per-request cap (admitted by raised cost limits) is stopped
                by CancelJob within one second; a client killed mid-Solve cancels its job; the same
                request under the default cost limits is refused with RESOURCE_EXHAUSTED
See docs/SECURITY.md, "Fault behaviour"."""
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import secure_server_util as u  # noqa: E402

import grpc  # noqa: E402
import arc_client  # noqa: E402
from arc_client import ArcError  # noqa: E402

# A TTT job of a few hundred milliseconds on the tiny model.
SHORT = ["--experts", "ttt", "--ttt_max_steps", "40", "--ttt_epochs", "100",
         "--ttt_max_samples", "16", "--ttt_batch_size", "1"]
# A job that trains until cancelled.
LONG = dict(experts="ttt", ttt_max_steps=100000, ttt_epochs=100, ttt_max_samples=250,
            ttt_batch_size=1, ttt_augment=True)
# Every per-request cap of the server's defaults (server/server_options.h OptionLimits).
CAPS = dict(experts="ttt", ttt_batch_size=32, lora_rank=128,
            lora_targets="q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj,lm_head",
            ttt_max_samples=1000, ttt_grad_accum=64, ttt_max_steps=1000, ttt_epochs=100,
            ttt_augment=True, infer_batch_size=64,
            # The cap is 4096, but a request past the model's 2048-token context fails at once
            # (the views are fitted before any training), so the largest answer budget that fits.
            max_new_tokens=2000)
RAISED = ["--max_job_memory_mb=1000000", "--max_job_token_steps=1000000000000",
          "--max_step_gflop=1000000"]


def wait_state(client, job_id, states, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(job_id)
        if job.state in states:
            return job
        time.sleep(0.01)
    raise AssertionError(f"job {job_id} not in {states} within {timeout} s: {client.get(job_id)}")




class FaultTest(u.ServersTestCase):
    PREFIX = "fault"

    def test_overload_at_capacity_loses_no_job(self):
        s = self.start(["--workers=1", "--queue_capacity=2", "--warmup=false"])
        n = 8
        clients = [subprocess.Popen([u.CLIENT, "--server", s.target, "--retries", "30",
                                     "--deadline", "50", "solve", u.FLIP, "--request_id",
                                     f"overload-{i}", *SHORT],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for i in range(n)]
        results = []
        for c in clients:
            out, err = c.communicate(timeout=55)
            results.append((c.returncode, out, err))
        for rc, out, err in results:
            self.assertEqual(rc, 0, out + err)
        done = s.events("job_done")
        self.assertEqual(sorted(e["request_id"] for e in done if e["outcome"] == "succeeded"),
                         sorted(f"overload-{i}" for i in range(n)), s.log())
        # The queue was full at times: the retries were needed, and the clients got every answer.
        self.assertEqual(len(done), n)
        s.stop()

    def test_sigterm_during_ttt_drains_and_exits_zero(self):
        s = self.start(["--drain_timeout=1s", "--warmup=false", "--limit_ttt_steps=1000000"])
        with arc_client.Client(s.target, timeout=30) as c:
            job = c.submit(u.FLIP, **LONG)
            wait_state(c, job, ("running",), 10)
            time.sleep(0.3)
            start = time.monotonic()
            s.process.send_signal(signal.SIGTERM)
            self.assertEqual(s.wait_exit(30), 0, s.log())
            elapsed = time.monotonic() - start
        self.assertLess(elapsed, 10, s.log())
        done = [e for e in s.events("job_done") if e["job_id"] == job]
        self.assertEqual(len(done), 1, s.log())
        self.assertEqual(done[0]["code"], "UNAVAILABLE")
        self.assertIn("server shutting down", done[0]["error"])
        self.assertIn("event=stopped", s.log())

    def test_failover_to_the_other_server_with_the_same_request_id(self):
        a = self.start(["--warmup=false"], name="a")
        b = self.start(["--warmup=false"], name="b")
        client = subprocess.Popen(
            [u.CLIENT, "--server", f"{a.target},{b.target}", "--retries", "10", "--deadline", "50",
             "solve", u.FLIP, "--request_id", "failover-1", "--experts", "ttt", "--ttt_max_steps",
             "1000", "--ttt_epochs", "100", "--ttt_max_samples", "64", "--ttt_batch_size", "1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Which server took it?
        deadline = time.monotonic() + 20
        victim = None
        while victim is None and time.monotonic() < deadline:
            for s in (a, b):
                with arc_client.Client(s.target, timeout=5) as c:
                    if c.list_jobs(state="running"):
                        victim = s
            time.sleep(0.05)
        self.assertIsNotNone(victim)
        survivor = b if victim is a else a
        time.sleep(0.3)
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait()
        out, err = client.communicate(timeout=55)
        rc = client.returncode
        self.assertEqual(rc, 0, out + err)
        with arc_client.Client(survivor.target, timeout=5) as c:
            jobs = c.list_jobs()
        self.assertEqual([(j.request_id, j.state) for j in jobs], [("failover-1", "succeeded")])
        survivor.stop()

    def test_request_at_every_cap_stops_within_a_second(self):
        # Under the default cost limits the request is refused, naming the estimate and the limit.
        # (The tiny model's cap request is estimated at about 0.2 GiB, a default job at 0.07.)
        s = self.start(["--warmup=false", "--max_job_memory_mb=128"])
        with arc_client.Client(s.target, timeout=30) as c:
            with self.assertRaises(ArcError) as e:
                c.submit(u.FLIP, **CAPS)
            self.assertEqual(e.exception.code, grpc.StatusCode.RESOURCE_EXHAUSTED)
            self.assertIn("estimated", e.exception.message)
            self.assertIn("--max_job_memory_mb 128", e.exception.message)
            self.assertIn("T=", e.exception.message)
            self.assertIsNone(e.exception.retry_after_ms)
            c.submit(u.FLIP, experts="search")  # a default-sized job is admitted
        s.stop()
        # Admitted with raised limits, it is stopped by CancelJob within one second, in training
        # and in inference.
        s = self.start(["--warmup=false", *RAISED])
        latencies = []
        with arc_client.Client(s.target, timeout=60) as c:
            for phase_wait in (1.0, 3.0, 6.0):
                job = c.submit(u.FLIP, **CAPS)
                wait_state(c, job, ("running",), 20)
                time.sleep(phase_wait)
                start = time.monotonic()
                c.cancel(job)
                wait_state(c, job, ("cancelled",), 5)
                latencies.append(time.monotonic() - start)
            # A client killed in the middle of a Solve cancels its job.
            client = subprocess.Popen(
                [u.CLIENT, "--server", s.target, "solve", u.FLIP, "--experts", "ttt",
                 "--ttt_max_steps", "1000", "--ttt_epochs", "100", "--ttt_max_samples", "250",
                 "--ttt_batch_size", "32", "--ttt_grad_accum", "64"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 20
            running = []
            while not running and time.monotonic() < deadline:
                running = c.list_jobs(state="running")
                time.sleep(0.05)
            self.assertEqual(len(running), 1)
            time.sleep(0.5)
            start = time.monotonic()
            client.send_signal(signal.SIGKILL)
            client.wait()
            wait_state(c, running[0].job_id, ("cancelled",), 5)
            disconnect = time.monotonic() - start
        print(f"cancel latencies at the caps (s): {[round(x, 3) for x in latencies]}; "
              f"client killed -> job cancelled: {disconnect:.3f} s", file=sys.stderr)
        self.assertLess(max(latencies), 1.0, latencies)
        self.assertLess(disconnect, 2.0)
        s.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
