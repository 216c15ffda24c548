"""Manual measurement (not a ctest): the admission estimate (server/admission.h) against the
measured peak RSS of arc-server, and the cancellation latency of running jobs, on a real model.

  /usr/bin/python3 tests/measure_costs.py --server build/server/arc-server \
      --client_python build/client/python --model models/default \
      --task ../shared/data/arc-agi-1/training/3631a71a.json

For each option set a fresh server (1 worker, 2 threads, debug log for the estimate) solves the
task: peak RSS (VmHWM) minus the RSS once serving is the job's measured memory; the job is
cancelled after `--run_seconds` of running and the time to CANCELLED is its cancel latency.
docs/SECURITY.md quotes the results.
"""
import argparse
import random
import os
import re
import subprocess
import sys
import time

OPTION_SETS = [
    ("default options (ttt expert)", dict(experts="ttt")),
    ("batch 4", dict(experts="ttt", ttt_batch_size=4)),
    ("batch 8, rank 128, all targets", dict(experts="ttt", ttt_batch_size=8, lora_rank=128,
     lora_targets="q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj,lm_head")),
    ("batch 2, grad accum 64", dict(experts="ttt", ttt_batch_size=2, ttt_grad_accum=64)),
    ("no TTT, infer batch 64", dict(experts="ttt", ttt=False, infer_batch_size=64)),
    ("batch 2, T=2048", dict(experts="ttt", ttt_batch_size=2, ttt_max_tokens=0)),
]


def status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--client_python", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--task", required=True)
    ap.add_argument("--run_seconds", type=float, default=20)
    ap.add_argument("--only", default="")
    ap.add_argument("--repeat", type=int, default=1,
                    help="jobs per option set; with more than one, each is cancelled after a "
                         "seeded uniform 1..run_seconds of running (the cancel latency's spread)")
    args = ap.parse_args()
    rng = random.Random(0)
    sys.path.insert(0, args.client_python)
    import arc_client

    for name, options in [o for o in OPTION_SETS for _ in range(args.repeat)]:
        if args.only and args.only not in name:
            continue
        run_seconds = args.run_seconds if args.repeat == 1 else rng.uniform(1, args.run_seconds)
        log_path = f"/tmp/measure-{os.getpid()}.log"
        with open(log_path, "wb") as log:
            p = subprocess.Popen([args.server, "--address=127.0.0.1:0", "--metrics_address=",
                                  f"--model={args.model}", "--threads=2", "--log_level=debug",
                                  "--max_job_memory_mb=12000", "--max_step_gflop=100000"],
                                 stdout=log, stderr=subprocess.STDOUT)
        while "event=serving" not in open(log_path).read():
            if p.poll() is not None:
                raise SystemExit(open(log_path).read())
            time.sleep(0.1)
        port = re.search(r"event=listening .*?\bport=(\d+)", open(log_path).read()).group(1)
        base_kb = status_kb(p.pid, "VmRSS")
        with arc_client.Client(f"127.0.0.1:{port}", timeout=600) as c:
            try:
                job = c.submit(args.task, **options)
            except arc_client.ArcError as e:
                print(f"{name}: refused: {e.message}")
                p.terminate()
                p.wait()
                continue
            while c.get(job).state == "queued":
                time.sleep(0.05)
            end = time.monotonic() + run_seconds
            while time.monotonic() < end and not c.get(job).finished:
                time.sleep(0.1)
            finished = c.get(job).finished
            phase = c.get(job).phase
            start = time.monotonic()
            c.cancel(job)
            while not c.get(job).finished:
                time.sleep(0.005)
            latency = time.monotonic() - start
        peak_kb = status_kb(p.pid, "VmHWM")
        text = open(log_path).read()
        est = re.search(r'event=job_cost .*cost="([^"]*)"', text)
        p.terminate()
        p.wait()
        print(f"{name}: measured {(peak_kb - base_kb) / 1024 / 1024:.2f} GiB over the serving RSS "
              f"({base_kb / 1024:.0f} MiB); cancel latency "
              f"{'(finished first)' if finished else f'{latency:.3f} s in phase {phase}'}; estimate: "
              f"{est.group(1) if est else '?'}", flush=True)


if __name__ == "__main__":
    main()
