#!/usr/bin/env python3
"""The binaries explain themselves and run from anywhere (tools/flags/usage.h, tools/flags/paths.h).

Parts (one ctest test each, tests/CMakeLists.txt):
  help     every binary's --help exits 0 and lists each of its flags with its default (for the absl
           binaries: every flag `--helpfull` reports, with the same default; for arc-client: a
           fixed list), subcommands where it has them; an unknown flag or a bad value is refused
           naming the flag.
  docs     README.md, docs/*.md and examples/README.md link only files inside the repository.
  paths    from another directory, the build tree's arc-solve finds the default model and writes
           out/submission.json and out/report.json there (a search-only solve of examples/flip.json),
           and arc-server finds the default model too (it loads it and serves).
  install  `cmake --install` into a temporary prefix puts the binaries in P/bin and the model in
           P/share/arc-ttt/models/default; the installed arc-solve --help works and, run from
           another directory, solves with the installed model (renamed, to tell it from the
           source tree's).

Run with the system python3; binaries come as --bin NAME=PATH arguments.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

ARGS = None

# absl's own flags (absl/flags/parse.cc, absl/flags/internal/usage.cc): --helpfull lists them,
# --help does not.
ABSL_FLAGS = {"flagfile", "fromenv", "tryfromenv", "undefok", "help", "helpfull", "helpshort",
              "helppackage", "helpon", "helpmatch", "version", "only_check_args"}

# A few flags per binary with the default --help must show (the rest is checked against absl).
EXPECTED = {
    "arc-tasks": {"solutions": '""', "out": '""', "vote": "hierarchical", "threads": "1",
                  "verbose": "false"},
    "arc-generate": {"family": "all", "count": "1", "seed": "0", "out": '""', "list": "false",
                     "max_side": "10"},
    "arc-init-model": {"preset": "small", "out": '""', "seed": "0", "context": "0",
                       "tokenizer": '""', "dtype": '""', "shard_mb": "-1"},
    "arc-bench": {"configs": "golden,small-kv4", "batches": "1,16", "seq_len": "64",
                  "json": "false", "phases": "forward,train,decode", "direct_cpu": "true",
                  "keep_freed_memory": "true"},
    "arc-train": {"preset": '""', "out": '""', "lr": "0.0015", "arc_dir": "../shared/data/arc-agi-1",
                  "resume": "false"},
    "arc-solve": {"model": "models/default", "out": "out/submission.json",
                  "report": "out/report.json", "tasks": '""', "threads": "0", "no_ttt": "false",
                  "experts": "both", "ttt_lr": "0.0001", "keep_freed_memory": "true"},
    "arc-server": {"model": "models/default", "address": "127.0.0.1:50051",
                   "metrics_address": "0.0.0.0:9464", "workers": "1", "job_ttl": "10m",
                   "limit_search_work": "20000", "experts": "both", "keep_freed_memory": "true"},
}

# arc-client parses its own options: each as `--name=DEFAULT` in its --help.
CLIENT_EXPECTED = ["--server=TARGET", "--deadline=600|10", "--retries=3", "--color=auto",
                   "--stream=false", "--json=false", "--task_json=false", "--candidates=4",
                   '--solutions=""', "--concurrency=1", '--out=""', "--limit=0", '--state=""',
                   '--service=""', "--total=0", "--duration=0", "--rate=0", '--task_id=""',
                   '--request_id=""', "--include_views=false", "--no_ttt=false"]


def run(cmd, cwd=None, timeout=120, env=None):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def absl_flags(binary):
    """{name: default} of the program's own flags, from absl's `--helpfull`."""
    r = run([binary, "--helpfull"])
    flags = {}
    for m in re.finditer(r"^\s+--([A-Za-z0-9_]+) \(.*?\);\s*default: (.*?);\s*$", r.stdout,
                         re.MULTILINE | re.DOTALL):
        if m.group(1) not in ABSL_FLAGS:
            flags[m.group(1)] = m.group(2).strip()
    return flags


def shown_default(absl_default):
    """absl's --helpfull default text as --help shows it: strings unquoted unless empty or spaced."""
    if absl_default == "":  # an empty list (absl quotes only strings)
        return '""'
    if absl_default.startswith('"') and absl_default.endswith('"'):
        inner = absl_default[1:-1]
        return absl_default if inner == "" or " " in inner else inner
    return absl_default


class HelpTest(unittest.TestCase):
    def help_text(self, name):
        r = run([ARGS.bin[name], "--help"])
        self.assertEqual(r.returncode, 0, f"{name} --help: {r.stderr}")
        self.assertTrue(r.stdout.startswith(f"{name}: "), f"{name} --help:\n{r.stdout[:500]}")
        self.assertIn("usage: ", r.stdout)
        return r.stdout

    def test_absl_binaries_list_every_flag_with_its_default(self):
        for name in EXPECTED:
            with self.subTest(binary=name):
                text = self.help_text(name)
                lines = text.splitlines()
                flags = absl_flags(ARGS.bin[name])
                self.assertGreaterEqual(len(flags), len(EXPECTED[name]), f"{name} --helpfull")
                for flag, default in flags.items():
                    want = f"--{flag}={shown_default(default)}"
                    line = [l for l in lines if l.startswith(f"  {want} ") or l == f"  {want}"]
                    self.assertEqual(len(line), 1, f"{name} --help lacks `{want}`:\n{text}")
                    help_part = line[0][len(f"  {want}"):].strip()
                    self.assertNotEqual(help_part, "", f"{name}: --{flag} has no help")
                for flag, default in EXPECTED[name].items():
                    self.assertIn(f"\n  --{flag}={default} ", text, f"{name} --help")
                # absl's own flags are left to --helpfull.
                self.assertNotIn("\n  --flagfile=", text)
                # -h and --helpshort are --help too.
                for alias in ("-h", "--helpshort"):
                    r = run([ARGS.bin[name], alias])
                    self.assertEqual((r.returncode, r.stdout), (0, text), f"{name} {alias}")

    def test_arc_tasks_lists_its_subcommands(self):
        text = self.help_text("arc-tasks")
        commands = text.split("\ncommands:\n", 1)[1].split("\n\n", 1)[0]
        for command in ("check", "baseline", "score", "search"):
            self.assertRegex(commands, rf"(?m)^  {command} +\S", text)
        r = run([ARGS.bin["arc-tasks"], "frobnicate", "x"])
        self.assertEqual(r.returncode, 2)
        self.assertIn('unknown command "frobnicate"', r.stderr)
        r = run([ARGS.bin["arc-tasks"]])
        self.assertEqual(r.returncode, 2)
        self.assertIn("no command", r.stderr)

    def test_solve_flags_are_their_own_section(self):
        for name in ("arc-solve", "arc-server"):
            text = self.help_text(name)
            own, solve = text.split("\nsolve options", 1)
            self.assertIn("\n  --model=models/default ", own)
            self.assertIn("\n  --ttt_lr=0.0001 ", solve)
            self.assertNotIn("--model=", solve)

    def test_arc_client_lists_every_option_with_its_default(self):
        r = run([ARGS.bin["arc-client"], "--help"])
        self.assertEqual(r.returncode, 0, r.stderr)
        for flag in CLIENT_EXPECTED:
            self.assertRegex(r.stdout, rf"(?m)(^| |\(){re.escape(flag)}[ ,)]", flag)
        for command in ("solve", "eval", "submit", "get", "watch", "cancel", "list", "info",
                        "health", "load"):
            self.assertRegex(r.stdout, rf"(?m)^  {command} ", command)

    def test_bad_flags_name_the_flag(self):
        for name, path in sorted(ARGS.bin.items()):
            with self.subTest(binary=name):
                r = run([path, "--no_such_flag=1"] + (["info"] if name == "arc-client" else []))
                self.assertNotEqual(r.returncode, 0, name)
                self.assertIn("no_such_flag", r.stderr, f"{name}: {r.stderr}")
        bad_values = {"arc-tasks": "--threads=x", "arc-generate": "--count=x",
                      "arc-init-model": "--seed=x", "arc-bench": "--seq_len=x",
                      "arc-train": "--lr=x", "arc-solve": "--threads=x", "arc-server": "--workers=x"}
        for name, arg in bad_values.items():
            with self.subTest(binary=name, arg=arg):
                r = run([ARGS.bin[name], arg])
                self.assertNotEqual(r.returncode, 0, name)
                flag = arg[2:].split("=")[0]
                self.assertIn(f"'{flag}'", r.stderr, f"{name}: {r.stderr}")
        r = run([ARGS.bin["arc-client"], "--server", "h:1", "--retries", "x", "info"])
        self.assertEqual(r.returncode, 2)
        self.assertIn('--retries: "x" is not an integer', r.stderr)
        r = run([ARGS.bin["arc-solve"], "stray"])
        self.assertEqual(r.returncode, 2)
        self.assertIn('unexpected argument "stray"', r.stderr)
        r = run([ARGS.bin["arc-bench"], "--phases=forward,prefill"])
        self.assertEqual(r.returncode, 2)
        self.assertIn('--phases: unknown phase "prefill"', r.stderr)
        r = run([ARGS.bin["arc-bench"], "--batches=1,x"])
        self.assertEqual(r.returncode, 2)
        self.assertIn('--batches: "x" is not a batch size in [1, 4096]', r.stderr)


class DocsTest(unittest.TestCase):
    def test_links_stay_inside_the_repository(self):
        root = os.path.realpath(ARGS.source)
        files = ["README.md", "examples/README.md"] + [
            os.path.join("docs", f) for f in sorted(os.listdir(os.path.join(root, "docs")))
            if f.endswith(".md")]
        for rel in files:
            path = os.path.join(root, rel)
            text = open(path, encoding="utf-8").read()
            for target in re.findall(r"\]\(([^)\s]+)\)", text):
                if re.match(r"^[a-z]+://|^#|^mailto:", target):
                    continue
                target = target.split("#", 1)[0]
                resolved = os.path.realpath(os.path.join(os.path.dirname(path), target))
                with self.subTest(file=rel, link=target):
                    self.assertTrue(resolved.startswith(root + os.sep),
                                    f"{rel} links {target}, outside the repository")
                    self.assertTrue(os.path.exists(resolved), f"{rel} links {target}: missing")


def solve_from(test, solve, cwd):
    """Runs a search-only solve of examples/flip.json in `cwd` with the default model; returns the
    report."""
    task = os.path.join(ARGS.source, "examples", "flip.json")
    r = run([solve, "--tasks", task, "--experts", "search", "--threads", "1"], cwd=cwd)
    test.assertEqual(r.returncode, 0, f"{solve} in {cwd}:\n{r.stdout}\n{r.stderr}")
    sub = json.load(open(os.path.join(cwd, "out", "submission.json")))
    test.assertIn("flip", sub)
    return json.load(open(os.path.join(cwd, "out", "report.json")))


class PathsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="arc_paths_")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_arc_solve_finds_the_default_model_from_another_directory(self):
        report = solve_from(self, ARGS.bin["arc-solve"], self.tmp)
        self.assertEqual(report["model"], "arc-default-256x4")
        self.assertTrue(report["tasks"][0]["tests"][0]["correct"])

    def test_arc_server_finds_the_default_model_from_another_directory(self):
        log_path = os.path.join(self.tmp, "server.log")
        with open(log_path, "w") as log:
            p = subprocess.Popen([ARGS.bin["arc-server"], "--address=127.0.0.1:0",
                                  "--metrics_address=", "--warmup=false", "--threads=1"],
                                 cwd=self.tmp, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 60
            text = ""
            while time.time() < deadline and "event=serving" not in text and p.poll() is None:
                time.sleep(0.2)
                text = open(log_path).read()
            self.assertIn("event=serving", text, text)
            m = re.search(r"event=model_loading .*dir=\"?([^\" ]+)", text)
            self.assertIsNotNone(m, text)
            self.assertEqual(m.group(1), os.path.join(os.path.realpath(ARGS.source), "models", "default"))
        finally:
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(timeout=60), 0, open(log_path).read())


class InstallTest(unittest.TestCase):
    def test_install_and_run_from_another_directory(self):
        tmp = tempfile.mkdtemp(prefix="arc_install_")
        try:
            prefix = os.path.join(tmp, "prefix")
            r = run([ARGS.cmake, "--install", ARGS.build_dir, "--prefix", prefix], timeout=300)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            for name in EXPECTED.keys() | {"arc-client"}:
                self.assertTrue(os.access(os.path.join(prefix, "bin", name), os.X_OK), name)
            model = os.path.join(prefix, "share", "arc-ttt", "models", "default")
            for f in ("config.json", "model.safetensors", "tokenizer.json", "arc_model.json",
                      "solve_options.json"):
                self.assertTrue(os.path.isfile(os.path.join(model, f)), f)
            if os.path.isdir(os.path.join(ARGS.source, "client", "python", "arc_client")):
                self.assertTrue(os.path.isfile(os.path.join(
                    prefix, "share", "arc-ttt", "python", "arc_client", "__init__.py")))
            solve = os.path.join(prefix, "bin", "arc-solve")
            r = run([solve, "--help"])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("\n  --model=models/default ", r.stdout)
            # Rename the installed model, so that the report tells which copy was loaded.
            meta_path = os.path.join(model, "arc_model.json")
            meta = json.load(open(meta_path))
            meta["name"] = "installed-copy"
            json.dump(meta, open(meta_path, "w"))
            work = os.path.join(tmp, "work")
            os.makedirs(work)
            report = solve_from(self, solve, work)
            self.assertEqual(report["model"], "installed-copy")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=["help", "docs", "paths", "install"])
    parser.add_argument("--source", required=True, help="the repository root")
    parser.add_argument("--build-dir", help="install: the build tree")
    parser.add_argument("--cmake", default="cmake", help="install: the cmake binary")
    parser.add_argument("--bin", action="append", default=[], help="NAME=PATH of a binary")
    ARGS, rest = parser.parse_known_args()
    ARGS.bin = dict(b.split("=", 1) for b in ARGS.bin)
    case = {"help": HelpTest, "docs": DocsTest, "paths": PathsTest, "install": InstallTest}[ARGS.part]
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(case)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    sys.exit(0 if result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
