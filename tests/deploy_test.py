#!/usr/bin/env python3
"""Deployment checks (ctest label `deploy`): deploy/, docker-compose.yml and the Dockerfiles agree
with the real server, and their monitoring queries run against a real Prometheus.

  deploy_test.py static --source DIR --server BIN --client BIN --init-model BIN
  deploy_test.py live   --source DIR --server BIN --client BIN --init-model BIN
  deploy_test.py rpc    ... --target HOST:PORT --tmp DIR --what malformed|ghz   (used by live)

static: yamllint on every YAML file; promtool check config/rules and the rule unit tests; the
  Kubernetes overlays rendered with `kubectl kustomize` (skipped with a message without kubectl)
  and checked against the server (ports, probes, flags the server accepts, grace period > drain);
  docker-compose.yml (flags, ports, Prometheus target, Grafana provisioning); the Dockerfiles
  (built through scripts/setup.sh, exec-form ENTRYPOINT, non-root, the runtime packages are the
  ones that own the libraries the built binaries link); every metric the dashboard and rules name
  is one the server defines; the ghz configs and data files (strict protobuf JSON).
live: the Dockerfile's ENTRYPOINT + CMD (tini, arc-server) on loopback with a tiny random model,
  its HEALTHCHECK command, a real Prometheus (deploy/prometheus/prometheus.yml with only the target
  and intervals changed, rules.yml loaded) scraping it while arc-client and the ghz data files make
  traffic; then every dashboard query returns data, every alert expression evaluates, every rule is
  healthy, and SIGTERM through tini drains the server to exit 0.

Runs with the system python3 (Debian's python3-yaml, python3-protobuf, python3-grpcio). Every
process it starts is bound to 127.0.0.1, has bounded waits and is killed on exit.
"""
import argparse
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid

import yaml

# gRPC is only ever imported in a child process (`deploy_test.py rpc`, see rpc_main), never here:
# Debian's gRPC core (1.51) installs fork handlers that deadlock or abort this process ("thd.h:
# state_ == FAILED", "thread_pool.cc: state_ == State::kRunning") when it forks a subprocess after
# `import grpc` on a loaded machine, and GRPC_ENABLE_FORK_SUPPORT=false does not turn all of them off.

ARGS = None  # parsed command line, set in main()

# Metrics a CPU-only server legitimately never exports (server/metrics.h: only on a CUDA device).
NO_SERIES_ON_CPU = ("arc_cuda_memory_allocated_bytes", "arc_cuda_memory_reserved_bytes")
# Grafana's built-in variables and the dashboard's own, as the live check substitutes them.
GRAFANA_VARS = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "5m",
                "${instance}": ".+", "$instance": ".+"}
# Packages of the Debian base image itself (not listed in the runtime stages).
BASE_IMAGE_PACKAGES = {"libc6", "libstdc++6", "libgcc-s1"}


# ------------------------------------------------------------------------------------------------
# helpers

def src(*parts):
    return os.path.join(ARGS.source, *parts)


def read(*parts):
    with open(src(*parts), encoding="utf-8") as f:
        return f.read()


def load_yaml(*parts):
    return yaml.safe_load(read(*parts))


def load_yaml_all(text):
    return [d for d in yaml.safe_load_all(text) if d]


def run(cmd, timeout=60, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


def die_with_parent(sig=signal.SIGKILL):
    """preexec_fn: the child gets `sig` when this test process dies (even by SIGKILL)."""
    def fn():
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, int(sig))  # PR_SET_PDEATHSIG
    return fn


_HELP_CACHE = {}


def server_flags():
    """{flag name: default text} from `arc-server --helpfull` (the server's --help lists only absl's
    own flags, because main.cc is not named after the binary)."""
    if "flags" not in _HELP_CACHE:
        r = run([ARGS.server, "--helpfull"], timeout=30)
        text = r.stdout + r.stderr
        flags = {}
        for m in re.finditer(r"^\s+--([A-Za-z0-9_]+) \(.*?\);\s*default: (.*?);\s*$", text,
                             re.MULTILINE | re.DOTALL):
            flags[m.group(1)] = m.group(2).strip().strip('"')
        if len(flags) < 20 or "address" not in flags:
            raise AssertionError(f"could not parse `arc-server --helpfull` ({len(flags)} flags):\n{text[:2000]}")
        _HELP_CACHE["flags"] = flags
    return _HELP_CACHE["flags"]


def flag_args(args):
    """[--a=1, --b, 2, ...] -> [(name, value or None)]; values may be separate arguments."""
    out = []
    i = 0
    while i < len(args):
        a = args[i]
        if not a.startswith("--"):
            raise AssertionError(f"not a flag: {a!r} in {args}")
        if "=" in a:
            name, value = a[2:].split("=", 1)
        elif i + 1 < len(args) and not args[i + 1].startswith("--"):
            name, value = a[2:], args[i + 1]
            i += 1
        else:
            name, value = a[2:], None
        out.append((name, value))
        i += 1
    return out


def flagfile_args(text):
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def port_of(address):
    return int(address.rsplit(":", 1)[1])


def duration_seconds(text):
    """absl/Go durations: 600s, 10m, 1h30m, 1.5s, plain numbers (compose: 120s)."""
    total = 0.0
    units = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6}
    parts = re.findall(r"([0-9.]+)(ms|us|h|m|s)", str(text))
    if not parts:
        return float(text)
    for number, unit in parts:
        total += float(number) * units[unit]
    return total


def assert_server_accepts(test, args, what):
    """The server parses and validates `args` (flag names and values): it reaches `listening`.
    Overrides make it bind loopback port 0 without metrics and stop at loading a missing model."""
    names = server_flags()
    for name, _ in flag_args(args):
        if name == "flagfile":
            continue
        test.assertIn(name, names, f"{what}: --{name} is not an arc-server flag (arc-server --helpfull)")
    # Secrets (TLS files, tokens) are mounted only in the container: their flags are checked by name
    # above and left out here (tests/security_test.py runs the server with real ones).
    secret_flags = ("tls_cert", "tls_key", "tls_client_ca", "token_file")
    args = [a for a in args if a.lstrip("-").split("=", 1)[0] not in secret_flags]
    cmd = [ARGS.server] + args + ["--model=/nonexistent-arc-model", "--address=127.0.0.1:0",
                                  "--metrics_address=", "--warmup=false"]
    r = run(cmd, timeout=30)
    log = r.stdout + r.stderr
    test.assertIn("event=listening", log, f"{what}: arc-server refused {args}:\n{log}")
    test.assertNotIn("ERROR:", log, f"{what}: {log}")
    test.assertNotEqual(r.returncode, 0, "the missing model must stop it")


# ---------------------------------------------------------------------------------------------
# Dockerfile parsing (enough for our two files: instructions, continuation lines, stages)

class Dockerfile:
    def __init__(self, path):
        self.path = path
        self.global_args = {}
        self.stages = []  # [{"from": str, "name": str, "instr": [(KEY, rest)]}]
        logical, buf = [], ""
        with open(path, encoding="utf-8") as f:
            for raw in f:
                line = raw.rstrip("\n")
                if line.lstrip().startswith("#"):  # comments, also inside continued lines
                    continue
                if line.endswith("\\"):
                    buf += line[:-1] + " "
                    continue
                buf += line
                if buf.strip():
                    logical.append(buf.strip())
                buf = ""
        for line in logical:
            key, _, rest = line.partition(" ")
            key = key.upper()
            if key == "FROM":
                m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?", rest, re.IGNORECASE)
                self.stages.append({"from": m.group(1), "name": m.group(2) or "", "instr": []})
            elif not self.stages:
                if key == "ARG":
                    name, _, default = rest.partition("=")
                    self.global_args[name] = default.strip('"')
            else:
                self.stages[-1]["instr"].append((key, rest.strip()))

    def all(self, key, stage=None):
        stages = self.stages if stage is None else [self.stages[stage]]
        return [rest for s in stages for k, rest in s["instr"] if k == key]

    def args(self):
        out = dict(self.global_args)
        for rest in self.all("ARG"):
            name, _, default = rest.partition("=")
            out[name] = default.strip('"')
        return out

    def env(self, stage=-1):
        out = {}
        for rest in self.all("ENV", stage):
            for m in re.finditer(r'(\w+)=("[^"]*"|\S+)', rest):
                out[m.group(1)] = m.group(2).strip('"')
        return out

    def exec_form(self, key, stage=-1):
        values = self.all(key, stage)
        if not values:
            return None
        text = values[-1]
        if key == "HEALTHCHECK":
            text = text[text.index("CMD") + 3:].strip()
        return json.loads(text)  # raises unless JSON (exec) form

    def apt_packages(self, stage=-1):
        pkgs = []
        for rest in self.all("RUN", stage):
            for m in re.finditer(r"apt-get install ([^;&|]*)", rest):
                pkgs += [t.strip('"') for t in m.group(1).split() if not t.startswith("-")]
        return pkgs


# ------------------------------------------------------------------------------------------------

def metric_table():
    """{name: type} from the table in server/metrics.h (the server's metric contract)."""
    table = {}
    for m in re.finditer(r"^//\s+((?:arc|process)_[a-z0-9_]+)\s+(counter|gauge|histogram)\b",
                         read("server", "metrics.h"), re.MULTILINE):
        table[m.group(1)] = m.group(2)
    return table


def metric_names(expr):
    """Metric names an expression selects (identifiers before `{`, `[` or at a word boundary that
    are not functions, keywords or label names)."""
    expr = re.sub(r'"[^"]*"', '""', expr)          # label values
    expr = re.sub(r"\{[^}]*\}", "{}", expr)        # label matchers
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set()
    for m in re.finditer(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?", expr):
        if m.group(2):
            continue  # a function call
        word = m.group(1)
        if word in ("and", "or", "unless", "bool", "offset", "inf", "nan", "e") or re.match(r"^\d", word):
            continue
        names.add(word)
    return names


def dashboard():
    with open(src("deploy", "grafana", "dashboards", "arc-server.json"), encoding="utf-8") as f:
        return json.load(f)


def dashboard_panels(d):
    for p in d["panels"]:
        yield p
        for q in p.get("panels", []):
            yield q


def dashboard_exprs(d):
    out = []
    for p in dashboard_panels(d):
        for t in p.get("targets", []):
            out.append((p["title"], t["expr"]))
    return out


def grafana_subst(expr):
    for k in sorted(GRAFANA_VARS, key=len, reverse=True):
        expr = expr.replace(k, GRAFANA_VARS[k])
    assert "$" not in expr, f"unknown Grafana variable in {expr}"
    return expr


def alert_rules():
    return [r for g in load_yaml("deploy", "prometheus", "rules.yml")["groups"] for r in g["rules"]]


_PB = []


def proto_module(tmp):
    """arc_solver_pb2 generated from proto/ by protoc (python3-protobuf reads it)."""
    if _PB:
        return _PB[0]
    out = os.path.join(tmp, "pb")
    os.makedirs(out, exist_ok=True)
    protoc = shutil.which("protoc")
    if not protoc:
        raise AssertionError("protoc not found (protobuf-compiler, scripts/setup.sh)")
    r = run([protoc, f"--proto_path={src('proto')}", f"--python_out={out}",
             src("proto", "arc", "v1", "arc_solver.proto")])
    if r.returncode != 0:
        raise AssertionError(r.stderr)
    sys.path.insert(0, out)
    from arc.v1 import arc_solver_pb2  # noqa: E402 (generated above)
    _PB.append(arc_solver_pb2)
    return arc_solver_pb2


def ghz_configs():
    d = src("deploy", "ghz")
    out = []
    for name in sorted(os.listdir(d)):
        if name.endswith(".json"):
            with open(os.path.join(d, name), encoding="utf-8") as f:
                out.append((name, json.load(f)))
    return out


def ghz_requests(pb, config):
    """The data file's requests as SolveRequest messages, ghz templates filled in per request."""
    from google.protobuf import json_format
    with open(src(config["data-file"]), encoding="utf-8") as f:
        text = f.read()
    data = json.loads(text)
    if isinstance(data, dict):
        data = [data]
    out = []
    for i, item in enumerate(data):
        filled = json.loads(re.sub(r"\{\{\s*\.UUID\s*\}\}", lambda _: str(uuid.uuid4()),
                                   json.dumps(item)).replace("{{.RequestNumber}}", str(i)))
        msg = pb.SolveRequest()
        json_format.ParseDict(filled, msg)  # strict: unknown fields raise, like ghz's jsonpb
        out.append(msg)
    return out


# ------------------------------------------------------------------------------------------------
class StaticChecks(unittest.TestCase):

    def test_yamllint_every_yaml_file(self):
        files = [src("docker-compose.yml"), src(".yamllint")]
        for root, _, names in os.walk(src("deploy")):
            files += [os.path.join(root, n) for n in names if n.endswith((".yml", ".yaml"))]
        self.assertGreaterEqual(len(files), 15, files)
        yamllint = shutil.which("yamllint")
        self.assertIsNotNone(yamllint, "yamllint not found: run scripts/setup.sh (Debian package yamllint)")
        r = run([yamllint, "--strict", "-c", src(".yamllint")] + files)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_promtool_config_rules_and_rule_unit_tests(self):
        promtool = shutil.which("promtool")
        self.assertIsNotNone(promtool, "promtool not found: run scripts/setup.sh (Debian package prometheus)")
        d = src("deploy", "prometheus")
        for cmd in (["check", "config", "prometheus.yml"], ["check", "rules", "rules.yml"],
                    ["test", "rules", "rules_test.yml"]):
            r = run([promtool] + cmd, cwd=d)
            self.assertEqual(r.returncode, 0, f"promtool {' '.join(cmd)}:\n{r.stdout}{r.stderr}")
        # Every alert has a unit test.
        tested = set(re.findall(r"alertname: (\w+)", read("deploy", "prometheus", "rules_test.yml")))
        self.assertEqual({r["alert"] for r in alert_rules()}, tested)

    def test_required_alerts_exist(self):
        rules = {r["alert"]: r for r in alert_rules()}
        self.assertIn("up{job=\"arc-server\"} == 0", rules["ArcServerDown"]["expr"])
        self.assertIn("arc_queue_depth", rules["ArcQueueSaturated"]["expr"])
        self.assertIn("arc_queue_capacity", rules["ArcQueueSaturated"]["expr"])
        self.assertIn("arc_requests_total", rules["ArcHighErrorRatio"]["expr"])
        self.assertIn("histogram_quantile(0.99", rules["ArcSolveLatencyP99High"]["expr"])

    def test_prometheusrule_has_the_rules_of_rules_yml(self):
        pr = load_yaml("deploy", "k8s", "base", "prometheusrule.yaml")
        self.assertEqual(pr["kind"], "PrometheusRule")
        self.assertEqual(pr["spec"]["groups"], load_yaml("deploy", "prometheus", "rules.yml")["groups"],
                         "deploy/k8s/base/prometheusrule.yaml differs from deploy/prometheus/rules.yml")

    def test_monitoring_uses_only_metrics_the_server_defines(self):
        table = metric_table()
        self.assertGreaterEqual(len(table), 25, "the metric table of server/metrics.h did not parse")
        for name in NO_SERIES_ON_CPU:
            self.assertIn(name, table)
        exprs = [("dashboard " + t, e) for t, e in dashboard_exprs(dashboard())]
        exprs += [("rule " + r["alert"], r["expr"]) for r in alert_rules()]
        with open(src("deploy", "k8s", "prometheus-adapter.yaml"), encoding="utf-8") as f:
            adapter = yaml.safe_load(f)
        for rule in adapter["rules"]["custom"]:
            exprs.append(("prometheus-adapter", rule["seriesQuery"]))
        for where, expr in exprs:
            for name in metric_names(grafana_subst(expr)):
                if name == "up":
                    continue
                base = re.sub(r"_(bucket|sum|count)$", "", name)
                if name in table:
                    continue
                self.assertIn(base, table, f"{where}: {name} is not a metric of server/metrics.h")
                self.assertEqual(table[base], "histogram", f"{where}: {name} on a {table[base]}")

    def test_dashboard_panels_cover_the_issue(self):
        d = dashboard()
        panels = [p for p in dashboard_panels(d) if p["type"] != "row"]
        self.assertGreaterEqual(len(panels), 20)
        # The dashboard's server-error ratio counts the codes the ArcHighErrorRatio alert counts.
        (rule,) = [r for r in alert_rules() if r["alert"] == "ArcHighErrorRatio"]
        codes = re.search(r'code=~"([^"]+)"', rule["expr"]).group(1)
        server_error_exprs = [e for _, e in dashboard_exprs(d) if "INTERNAL" in e]
        self.assertEqual(len(server_error_exprs), 2)
        for e in server_error_exprs:
            self.assertIn(f'code=~"{codes}"', e)
        ids = [p["id"] for p in dashboard_panels(d)]
        self.assertEqual(len(ids), len(set(ids)), "panel ids must be unique")
        for p in dashboard_panels(d):
            self.assertLessEqual(p["gridPos"]["x"] + p["gridPos"]["w"], 24, p["title"])
        ds = load_yaml("deploy", "grafana", "provisioning", "datasources", "prometheus.yml")["datasources"][0]
        for p in panels:
            self.assertEqual(p["datasource"]["uid"], ds["uid"], p["title"])
            for t in p["targets"]:
                self.assertEqual(t["datasource"]["uid"], ds["uid"], p["title"])
        for needle in ("sum by (method, code) (rate(arc_requests_total",
                       "histogram_quantile(0.5, sum by (le, method) (rate(arc_request_duration_seconds_bucket",
                       "histogram_quantile(0.9, sum by (le, method) (rate(arc_request_duration_seconds_bucket",
                       "histogram_quantile(0.99, sum by (le, method) (rate(arc_request_duration_seconds_bucket",
                       "arc_phase_duration_seconds", "arc_queue_depth", "arc_jobs_in_flight",
                       "arc_ttt_last_loss", "arc_ttt_steps_total", "arc_prompt_tokens_total",
                       "arc_generated_tokens_total", "arc_ttt_tokens_total", "arc_adapters_resident",
                       "process_resident_memory_bytes", "process_cpu_seconds_total",
                       "arc_cuda_memory_allocated_bytes", "arc_build_info",
                       "arc_search_programs_total", "arc_search_tasks_total"):
            self.assertTrue(any(needle in e for _, e in dashboard_exprs(d)), f"no dashboard query has {needle}")

    def test_compose_agrees_with_the_server_prometheus_and_grafana(self):
        compose = load_yaml("docker-compose.yml")
        services = compose["services"]
        self.assertEqual(set(services), {"arc-server", "prometheus", "grafana"})
        server = services["arc-server"]
        self.assertTrue(os.path.isfile(src(server["build"]["dockerfile"])))
        args = server["command"]
        assert_server_accepts(self, args, "docker-compose.yml arc-server command")
        flags = dict(flag_args(args))
        defaults = server_flags()
        grpc_port = port_of(flags.get("address", defaults["address"]))
        metrics_port = port_of(flags.get("metrics_address", defaults["metrics_address"]))
        self.assertEqual((grpc_port, metrics_port), (50051, 9464))
        published = {int(p.split(":")[-1]): int(p.split(":")[0]) for p in server["ports"]}
        self.assertEqual(published, {50051: 50051, 9464: 9464})
        drain = duration_seconds(flags.get("drain_timeout", defaults["drain_timeout"]))
        self.assertGreater(duration_seconds(server["stop_grace_period"]), drain + 32,
                           "stop_grace_period must cover --drain_timeout + 30 s cancel grace + 2 s")

        prom = services["prometheus"]
        mounts = {v.split(":")[1]: v.split(":")[0] for v in prom["volumes"] if v.startswith("./")}
        self.assertEqual(mounts["/etc/prometheus/prometheus.yml"], "./deploy/prometheus/prometheus.yml")
        config = load_yaml("deploy", "prometheus", "prometheus.yml")
        for rf in config["rule_files"]:
            self.assertIn("/etc/prometheus/" + rf, mounts, f"rule file {rf} is not mounted")
            self.assertTrue(os.path.isfile(src(mounts["/etc/prometheus/" + rf])))
        jobs = {j["job_name"]: j for j in config["scrape_configs"]}
        targets = [t for sc in jobs["arc-server"]["static_configs"] for t in sc["targets"]]
        self.assertEqual(targets, [f"arc-server:{metrics_port}"])
        self.assertEqual(jobs["arc-server"].get("metrics_path", "/metrics"), "/metrics")
        self.assertIn("9090:9090", prom["ports"])
        self.assertFalse(any("web.listen-address" in c for c in prom.get("command", [])))

        graf = services["grafana"]
        self.assertIn("3000:3000", graf["ports"])
        gmounts = {v.split(":")[1]: v.split(":")[0] for v in graf["volumes"] if v.startswith("./")}
        self.assertEqual(gmounts["/etc/grafana/provisioning"], "./deploy/grafana/provisioning")
        provider = load_yaml("deploy", "grafana", "provisioning", "dashboards", "arc.yml")["providers"][0]
        dash_dir = gmounts[provider["options"]["path"]]
        self.assertTrue(os.path.isfile(src(dash_dir, "arc-server.json")))
        ds = load_yaml("deploy", "grafana", "provisioning", "datasources", "prometheus.yml")["datasources"][0]
        self.assertEqual(ds["url"], "http://prometheus:9090")
        home = graf["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
        self.assertTrue(home.startswith(provider["options"]["path"] + "/"))
        self.assertTrue(os.path.isfile(src(dash_dir, os.path.basename(home))))

    def test_kubernetes_overlays_render_and_agree_with_the_server(self):
        kubectl = shutil.which("kubectl")
        if not kubectl:
            self.skipTest("kubectl not found: Kubernetes manifests not rendered")
        uid = int(Dockerfile(src("deploy", "docker", "Dockerfile")).all("USER", -1)[-1].split(":")[0])
        for overlay in ("cpu", "gpu", "tls"):
            with self.subTest(overlay=overlay):
                r = run([kubectl, "kustomize", src("deploy", "k8s", "overlays", overlay)])
                self.assertEqual(r.returncode, 0, r.stderr)
                self.check_rendered(overlay, load_yaml_all(r.stdout), uid)

    def test_kubernetes_tls_overlay_probes_pass_against_a_tls_server(self):
        """overlays/tls: arc-server started with the ConfigMap's flags and the Secret's files (a CA
        and a certificate for the name the probes verify, made with openssl), and each exec probe's
        command run as the kubelet would: exit 0 (SERVING) for all three."""
        kubectl = shutil.which("kubectl")
        if not kubectl:
            self.skipTest("kubectl not found: Kubernetes manifests not rendered")
        r = run([kubectl, "kustomize", src("deploy", "k8s", "overlays", "tls")])
        self.assertEqual(r.returncode, 0, r.stderr)
        docs = load_yaml_all(r.stdout)
        (dep,) = [d for d in docs if d["kind"] == "Deployment"]
        (cm,) = [d for d in docs if d["kind"] == "ConfigMap"]
        c = dep["spec"]["template"]["spec"]["containers"][0]
        volumes = {v["name"]: v for v in dep["spec"]["template"]["spec"]["volumes"]}
        (tls_mount,) = [m for m in c["volumeMounts"]
                        if volumes[m["name"]].get("secret", {}).get("secretName") == "arc-server-tls"]
        secret_dir = tls_mount["mountPath"]
        text = next(iter(cm["data"].values()))
        flags = dict(flag_args(flagfile_args(text)))
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import secure_server_util  # openssl certificates; imports no gRPC
        with tempfile.TemporaryDirectory(prefix="arc-k8s-tls-") as tmp:
            names = sorted({a for p in ("startupProbe", "readinessProbe", "livenessProbe")
                            for a in [c[p]["exec"]["command"][c[p]["exec"]["command"].index(
                                "--tls_server_name") + 1]]})
            certs = secure_server_util.make_certs(tmp, [f"DNS:{n}" for n in names])
            # The Secret's keys, as a kubernetes.io/tls Secret (or cert-manager) names them.
            files = {"tls.crt": certs["server.crt"], "tls.key": certs["server.key"],
                     "ca.crt": certs["ca.crt"]}

            def local(path):
                self.assertTrue(path.startswith(secret_dir + "/"), f"{path} is not in the Secret")
                return files[path[len(secret_dir) + 1:]]

            model = os.path.join(tmp, "model")
            r = run([ARGS.init_model, "--preset", "tiny", "--seed", "7", "--out", model], timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            log_path = os.path.join(tmp, "server.log")
            cmd = [ARGS.server, "--address=127.0.0.1:0", "--metrics_address=", f"--model={model}",
                   "--threads=1", f"--tls_cert={local(flags['tls_cert'])}",
                   f"--tls_key={local(flags['tls_key'])}"]
            with open(log_path, "wb") as log:
                server = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=subprocess.STDOUT, preexec_fn=die_with_parent())
            try:
                deadline = time.time() + 60
                port = None
                while time.time() < deadline and server.poll() is None:
                    with open(log_path, encoding="utf-8", errors="replace") as f:
                        text = f.read()
                    m = re.search(r"event=listening .*?port=(\d+)", text)
                    if m and "event=serving" in text:
                        port = m.group(1)
                        break
                    time.sleep(0.05)
                self.assertIsNotNone(port, f"arc-server with the overlay's TLS flags:\n{text}")
                for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                    command = list(c[probe]["exec"]["command"])
                    self.assertEqual(command[0], "/usr/local/bin/arc-client", probe)
                    command[0] = ARGS.client
                    i = command.index("--server")
                    self.assertEqual(port_of(command[i + 1]), port_of(flags["address"]), probe)
                    command[i + 1] = f"localhost:{port}"
                    i = command.index("--tls_ca")
                    command[i + 1] = local(command[i + 1])
                    r = run(command, timeout=30)
                    self.assertEqual(r.returncode, 0, f"{probe}: {command}\n{r.stdout}{r.stderr}")
                # The same probe without the CA fails: the probes really verify the certificate.
                command = [ARGS.client, "--server", f"localhost:{port}", "--tls_server_name",
                           names[0], "--deadline", "4", "--retries", "0", "health"]
                self.assertNotEqual(run(command, timeout=30).returncode, 0)
            finally:
                server.kill()
                server.wait()

    def check_rendered(self, overlay, docs, uid):
        by_kind = {}
        for d in docs:
            by_kind.setdefault(d["kind"], []).append(d)
        for kind in ("Deployment", "Service", "ConfigMap", "PodMonitor", "PrometheusRule",
                     "HorizontalPodAutoscaler", "PodDisruptionBudget"):
            self.assertIn(kind, by_kind, f"{overlay}: no {kind}")
        dep = by_kind["Deployment"][0]
        pod = dep["spec"]["template"]
        labels = pod["metadata"]["labels"]
        spec = pod["spec"]
        c = spec["containers"][0]

        # Flags: from the ConfigMap's flag file, accepted by the server.
        cm = by_kind["ConfigMap"][0]
        (flagfile,) = [a.split("=", 1)[1] for a in c["args"] if a.startswith("--flagfile=")]
        mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
        volumes = {v["name"]: v for v in spec["volumes"]}
        mount = mounts[os.path.dirname(flagfile)]
        self.assertEqual(volumes[mount["name"]]["configMap"]["name"], cm["metadata"]["name"])
        text = cm["data"][os.path.basename(flagfile)]
        # The secrets' files exist only in the pod (flag names are checked below).
        secret_flags = ("--tls_cert=", "--tls_key=", "--tls_client_ca=", "--token_file=")
        with tempfile.NamedTemporaryFile("w", suffix=".flags", delete=False) as f:
            f.write("\n".join(l for l in text.splitlines() if not l.startswith(secret_flags)) + "\n")
        try:
            other_args = [a for a in c["args"] if not a.startswith("--flagfile")]
            assert_server_accepts(self, [f"--flagfile={f.name}"] + other_args, f"{overlay} ConfigMap")
            names = server_flags()
            for name, _ in flag_args(flagfile_args(text)):
                self.assertIn(name, names, f"{overlay} ConfigMap: --{name}")
        finally:
            os.unlink(f.name)
        flags = dict(flag_args(flagfile_args(text)))
        defaults = server_flags()
        grpc_port = port_of(flags.get("address", defaults["address"]))
        metrics_port = port_of(flags.get("metrics_address", defaults["metrics_address"]))
        self.assertEqual(grpc_port, port_of(defaults["address"]))
        self.assertEqual(metrics_port, port_of(defaults["metrics_address"]))
        self.assertEqual(flags.get("device", "cpu"), "cuda" if overlay == "gpu" else "cpu")

        # Ports and probes.
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        self.assertEqual(ports, {"grpc": grpc_port, "metrics": metrics_port})
        server_cc = read("server", "server.cc")
        probe_services = {}
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            if overlay == "tls":
                # Exec probes (arc-client health over TLS, run live by the test below).
                self.assertNotIn("grpc", c[probe], probe)
                command = c[probe]["exec"]["command"]
                self.assertEqual(command[command.index("health") + 1:][:1], ["--service"], probe)
                service = command[command.index("--service") + 1]
            else:
                self.assertEqual(c[probe]["grpc"]["port"], grpc_port, probe)
                service = c[probe]["grpc"].get("service", "")
            probe_services[probe] = service
            self.assertIn(f'"{service}"' if service else 'SetServingStatus("", ', server_cc,
                          f"{probe}: health service {service!r} is not one the server sets")
        self.assertEqual(probe_services["livenessProbe"], "liveness")
        if overlay == "tls":
            self.assertIn("tls_cert", flags)
            self.assertIn("tls_key", flags)
        self.assertGreaterEqual(c["startupProbe"]["periodSeconds"] * c["startupProbe"]["failureThreshold"], 300)

        # Draining: the grace period covers preStop, the drain timeout, the cancel grace (30 s) and
        # gRPC's shutdown grace (2 s).
        drain = duration_seconds(flags.get("drain_timeout", defaults["drain_timeout"]))
        pre_stop = 0
        cmd = c.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
        if cmd and os.path.basename(cmd[0]) == "sleep":
            pre_stop = float(cmd[1])
        self.assertGreater(spec["terminationGracePeriodSeconds"], pre_stop + drain + 32)

        # Security and resources.
        self.assertTrue(spec["securityContext"]["runAsNonRoot"])
        self.assertEqual(spec["securityContext"]["runAsUser"], uid, "the image's USER")
        self.assertTrue(c["securityContext"]["readOnlyRootFilesystem"])
        self.assertFalse(c["securityContext"]["allowPrivilegeEscalation"])
        self.assertIn("emptyDir", volumes[mounts["/tmp"]["name"]])
        self.assertIn("requests", c["resources"])
        self.assertIn("memory", c["resources"]["limits"])
        gpus = c["resources"]["limits"].get("nvidia.com/gpu")
        self.assertEqual(gpus, 1 if overlay == "gpu" else None)
        self.assertTrue(c["image"].endswith(":cuda" if overlay == "gpu" else ":cpu"), c["image"])

        # Services: a regular one and a headless one, both selecting these pods' gRPC port.
        services = {s["metadata"]["name"]: s for s in by_kind["Service"]}
        self.assertEqual(len(services), 2)
        headless = [s for s in services.values() if s["spec"].get("clusterIP") == "None"]
        self.assertEqual(len(headless), 1)
        for s in services.values():
            for k, v in s["spec"]["selector"].items():
                self.assertEqual(labels.get(k), v, s["metadata"]["name"])
            targets = {p["targetPort"] for p in s["spec"]["ports"]}
            self.assertIn("grpc", targets)
            self.assertTrue(targets <= set(ports), targets)

        # Scraping: the PodMonitor scrapes the metrics port with job="arc-server".
        pm = by_kind["PodMonitor"][0]["spec"]
        self.assertEqual(pm["podMetricsEndpoints"][0]["port"], "metrics")
        for k, v in pm["selector"]["matchLabels"].items():
            self.assertEqual(labels.get(k), v)
        self.assertEqual(labels[pm["jobLabel"]], "arc-server", "the rules select job=\"arc-server\"")

        # Autoscaling on arc_queue_depth, a server gauge served by prometheus-adapter.
        hpa = by_kind["HorizontalPodAutoscaler"][0]["spec"]
        self.assertEqual(hpa["scaleTargetRef"]["name"], dep["metadata"]["name"])
        (metric,) = hpa["metrics"]
        self.assertEqual(metric["type"], "Pods")
        self.assertEqual(metric["pods"]["metric"]["name"], "arc_queue_depth")
        self.assertEqual(metric_table()["arc_queue_depth"], "gauge")
        adapter = load_yaml("deploy", "k8s", "prometheus-adapter.yaml")
        self.assertIn("arc_queue_depth", [r["name"]["as"] for r in adapter["rules"]["custom"]])

        pdb = by_kind["PodDisruptionBudget"][0]["spec"]
        for k, v in pdb["selector"]["matchLabels"].items():
            self.assertEqual(labels.get(k), v)
        self.assertEqual(dep["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"], 0)

    def test_dockerfiles_build_through_setup_sh_and_run_as_shipped(self):
        defaults = server_flags()
        for name in ("Dockerfile", "Dockerfile.cuda"):
            with self.subTest(dockerfile=name):
                df = Dockerfile(src("deploy", "docker", name))
                self.assertGreaterEqual(len(df.stages), 2, "multi-stage")
                base = df.stages[0]["from"].replace("${DEBIAN_IMAGE}", df.global_args.get("DEBIAN_IMAGE", ""))
                self.assertRegex(base, r"^debian:12")
                self.assertIn("scripts/setup.sh", " ".join(df.all("RUN", 0)),
                              "the builder must install through scripts/setup.sh")
                self.assertIn("scripts/setup.sh", " ".join(df.all("COPY", 0)))
                self.assertFalse(df.all("RUN", -1) and "setup.sh" in " ".join(df.all("RUN", -1)))
                self.assertFalse(any(p.endswith("-dev") for p in df.apt_packages(-1)), "runtime has -dev packages")
                user = df.all("USER", -1)[-1]
                self.assertRegex(user, r"^[1-9][0-9]*(:[0-9]+)?$", "numeric non-root USER")
                entry = df.exec_form("ENTRYPOINT")
                self.assertEqual(entry, ["/usr/bin/tini", "--", "/usr/local/bin/arc-server"])
                self.assertIn("tini", df.apt_packages(-1))
                health = df.exec_form("HEALTHCHECK")
                self.assertEqual(health[-1], "health")
                self.assertEqual(health[0], "/usr/local/bin/arc-client")
                self.assertEqual(df.env().get("OMP_WAIT_POLICY"), "PASSIVE")
                cmd = df.exec_form("CMD")
                assert_server_accepts(self, cmd, f"{name} CMD")
                flags = dict(flag_args(cmd))
                exposed = {int(p) for rest in df.all("EXPOSE", -1) for p in rest.split()}
                self.assertEqual(exposed, {port_of(flags.get("address", defaults["address"])),
                                           port_of(flags.get("metrics_address", defaults["metrics_address"]))})
                self.assertIn(f"localhost:{port_of(flags.get('address', defaults['address']))}", health)
                self.assertEqual(flags["model"], "/opt/arc/model")
                self.assertIn("/opt/arc/model", " ".join(df.all("COPY", -1)))
                args = df.args()
                self.assertEqual(args.get("MODEL_DIR"), "models/default")
                self.assertIn("MODEL_PRESET", args)
                if name == "Dockerfile.cuda":
                    self.assertEqual(flags.get("device"), "cuda")
                    cuda = args["CUDA_VERSION"]
                    self.assertIn("cu" + cuda.replace(".", ""), args["LIBTORCH_URL"])
                    self.assertIn("cxx11-abi-shared-with-deps", args["LIBTORCH_URL"])
        ignore = [l.strip() for l in read(".dockerignore").splitlines() if l.strip() and not l.startswith("#")]
        for needed in ("scripts", "models", "server", "core", "proto", "client", "tools"):
            self.assertNotIn(needed, ignore)
        self.assertIn("build", ignore)

    def test_runtime_stage_installs_the_packages_the_binaries_link(self):
        if not (shutil.which("dpkg") and shutil.which("readelf")):
            self.skipTest("dpkg or readelf not found: runtime packages not derived")
        needed = {}
        for binary in (ARGS.server, ARGS.client):
            r = run(["readelf", "-d", binary])
            for soname in re.findall(r"\(NEEDED\).*\[(.+)\]", r.stdout):
                needed[soname] = binary
        cache = run(["ldconfig", "-p"]).stdout
        owners = {}
        for soname in needed:
            m = re.search(rf"^\s+{re.escape(soname)} \(.*\) => (\S+)$", cache, re.MULTILINE)
            self.assertIsNotNone(m, f"{soname} not in the linker cache")
            path = os.path.realpath(m.group(1))
            r = run(["dpkg", "-S", path])
            if r.returncode != 0:  # usrmerge: dpkg knows the /lib path
                r = run(["dpkg", "-S", path.replace("/usr/lib/", "/lib/", 1)])
            self.assertEqual(r.returncode, 0, f"no package owns {path}")
            owners[soname] = r.stdout.split(":")[0]
        packages = set(owners.values()) - BASE_IMAGE_PACKAGES
        cpu = set(Dockerfile(src("deploy", "docker", "Dockerfile")).apt_packages(-1))
        self.assertEqual(packages - cpu, set(),
                         f"deploy/docker/Dockerfile runtime stage lacks packages of {owners}")
        cuda = set(Dockerfile(src("deploy", "docker", "Dockerfile.cuda")).apt_packages(-1))
        self.assertEqual(packages - cuda - {"libtorch1.13"}, set(), "Dockerfile.cuda runtime stage")
        self.assertNotIn("libtorch1.13", cuda, "the CUDA image carries PyTorch's libtorch")
        # Every listed package is a real Debian 12 package: scripts/setup.sh installed each of them
        # here (directly or as a dependency of a -dev package).
        for pkg in sorted(cpu | cuda):
            r = run(["dpkg-query", "-W", "-f=${Status}", pkg])
            self.assertIn("install ok installed", r.stdout, f"runtime package {pkg} unknown here")

    def test_ghz_configs_and_data(self):
        configs = ghz_configs()
        self.assertGreaterEqual(len(configs), 2)
        known = {"proto", "protoset", "call", "insecure", "total", "concurrency", "connections", "rps",
                 "duration", "max-duration", "timeout", "data", "data-file", "metadata", "name", "tags",
                 "connect-timeout", "host", "format", "output", "skipFirst", "import-paths", "count-errors"}
        compose_flags = dict(flag_args(load_yaml("docker-compose.yml")["services"]["arc-server"]["command"]))
        capacity = int(compose_flags["queue_capacity"]) + int(compose_flags["workers"])
        proto = read("proto", "arc", "v1", "arc_solver.proto")
        with tempfile.TemporaryDirectory() as tmp:
            pb = proto_module(tmp)
            kinds = set()
            for name, cfg in configs:
                with self.subTest(config=name):
                    self.assertEqual(set(cfg) - known, set(), "unknown ghz config keys")
                    self.assertEqual(cfg["call"], "arc.v1.ArcSolver.Solve")
                    self.assertIn("rpc Solve(SolveRequest)", proto)
                    self.assertGreater(duration_seconds(cfg["timeout"]), 600, "timeout above the job time")
                    self.assertLessEqual(cfg["concurrency"] * cfg.get("connections", 1), capacity)
                    self.assertTrue(cfg["insecure"])
                    requests = ghz_requests(pb, cfg)
                    self.assertGreaterEqual(len(requests), 2)
                    for req in requests:
                        kinds.add(req.WhichOneof("source"))
                        self.assertTrue(req.request_id.startswith("ghz-") and len(req.request_id) > 20,
                                        "a fresh request_id per call")
            self.assertEqual(kinds, {"task", "task_json"})
        self.assertIn("ghz --config deploy/ghz/", read("deploy", "ghz", "README.md"))


# ------------------------------------------------------------------------------------------------
class LiveChecks(unittest.TestCase):
    """One server and one Prometheus for all live checks (setUpClass); torn down whatever happens."""

    procs = []

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="arc-deploy-test-")
        try:
            cls._start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _start(cls):
        for tool in ("prometheus",):
            if not shutil.which(tool):
                raise AssertionError(f"{tool} not found: run scripts/setup.sh (Debian package prometheus)")
        model = os.path.join(cls.tmp, "model")
        r = run([ARGS.init_model, "--preset", "tiny", "--seed", "7", "--out", model], timeout=60)
        assert r.returncode == 0, r.stderr

        # The CPU image's ENTRYPOINT + CMD, paths mapped to this machine; test flags appended
        # (absl: the last value wins) for loopback ports picked by the server and a short TTT.
        df = Dockerfile(src("deploy", "docker", "Dockerfile"))
        mapping = {"/usr/local/bin/arc-server": ARGS.server, "/usr/local/bin/arc-client": ARGS.client,
                   "/opt/arc/model": model}
        tini = shutil.which("tini")
        entry = df.exec_form("ENTRYPOINT")
        if tini:
            mapping["/usr/bin/tini"] = tini
        else:
            print("deploy_test: tini not found; running arc-server without it", file=sys.stderr)
            entry = entry[entry.index("--") + 1:]

        def mapped(args):
            out = []
            for a in args:
                for k, v in mapping.items():
                    a = a.replace(k, v)
                out.append(a)
            return out

        cls.server_cmd = mapped(entry + df.exec_form("CMD")) + [
            "--address=127.0.0.1:0", "--metrics_address=127.0.0.1:0", "--threads=1",
            "--ttt_max_steps=2", "--ttt_max_samples=8", "--drain_timeout=10s"]
        env = dict(os.environ)
        env.update(df.env())
        cls.server_log = open(os.path.join(cls.tmp, "server.log"), "w+")
        cls.server = subprocess.Popen(cls.server_cmd, stdout=cls.server_log, stderr=subprocess.STDOUT,
                                      env=env, start_new_session=True,
                                      preexec_fn=die_with_parent(signal.SIGTERM))
        cls.procs.append(cls.server)
        deadline = time.time() + 30
        cls.grpc_port = cls.metrics_port = None
        while time.time() < deadline and cls.grpc_port is None:
            m = re.search(r"event=listening .*\bport=(\d+) metrics_port=(\d+)", cls.log())
            if m:
                cls.grpc_port, cls.metrics_port = int(m.group(1)), int(m.group(2))
            elif cls.server.poll() is not None:
                break
            time.sleep(0.1)
        assert cls.grpc_port, f"arc-server did not start: {cls.server_cmd}\n{cls.log()}"
        cls.target = f"127.0.0.1:{cls.grpc_port}"

        # The HEALTHCHECK command, until SERVING (model loaded and warmed up).
        hc = mapped(df.exec_form("HEALTHCHECK"))
        cls.health_cmd = [a.replace("localhost:50051", f"localhost:{cls.grpc_port}") for a in hc]
        deadline = time.time() + 30
        while True:
            r = run(cls.health_cmd, timeout=10)
            if r.returncode == 0:
                break
            assert time.time() < deadline, f"HEALTHCHECK never passed: {r.stdout}{r.stderr}\n{cls.log()}"
            time.sleep(0.2)

        # The server creates a (method, code) series at its first call; one error before the first
        # scrape lets rate() see the next one.
        cls.send_malformed()

        # Prometheus with the compose configuration: same jobs and rules, loopback targets, 1 s
        # intervals so rate() has samples within seconds.
        config = load_yaml("deploy", "prometheus", "prometheus.yml")
        cls.prom_port = free_port()
        config["global"]["scrape_interval"] = "1s"
        config["global"]["evaluation_interval"] = "1s"
        for job in config["scrape_configs"]:
            job["scrape_interval"] = "1s"
            for sc in job["static_configs"]:
                sc["targets"] = [f"127.0.0.1:{cls.metrics_port}" if job["job_name"] == "arc-server"
                                 else f"127.0.0.1:{cls.prom_port}" for _ in sc["targets"]]
        for rf in config["rule_files"]:
            shutil.copy(src("deploy", "prometheus", rf), os.path.join(cls.tmp, rf))
        with open(os.path.join(cls.tmp, "prometheus.yml"), "w") as f:
            yaml.safe_dump(config, f)
        cls.prom_log = open(os.path.join(cls.tmp, "prometheus.log"), "w+")
        cls.prom = subprocess.Popen(
            [shutil.which("prometheus"), f"--config.file={cls.tmp}/prometheus.yml",
             f"--storage.tsdb.path={cls.tmp}/tsdb", f"--web.listen-address=127.0.0.1:{cls.prom_port}",
             "--log.level=warn"],
            stdout=cls.prom_log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=die_with_parent(signal.SIGKILL))
        cls.procs.append(cls.prom)
        cls.wait_for(lambda: cls.query('up{job="arc-server"} == 1'), 30, "Prometheus never scraped arc-server")

        # Traffic after the first scrape, so rate() sees the counters move.
        cls.make_traffic()
        want = cls.server_requests()
        cls.wait_for(lambda: [s for s in cls.query('sum(arc_requests_total{job="arc-server"})')
                              if float(s["value"][1]) >= want], 20, "Prometheus never saw the traffic")
        time.sleep(2.5)  # two more scrapes and rule evaluations after the last increase

    @classmethod
    def make_traffic(cls):
        client = [ARGS.client, "--server", cls.target]
        # flip at the default experts (the program search explains it, TTT is skipped); recolor
        # with the TTT expert alone, so that the TTT and inference series move too.
        for args in (["solve", src("examples", "flip.json")],
                     ["solve", "--stream", "--experts", "ttt", src("examples", "recolor.json")],
                     ["solve", "--task_json", src("examples", "scale2.json")],
                     ["info"]):
            r = run(client + args, timeout=120)
            assert r.returncode == 0, f"arc-client {args}: {r.stdout}{r.stderr}"
        cls.send_malformed()
        cls.ghz_replies = cls.replay_ghz()

    @classmethod
    def rpc(cls, what):
        """Runs `deploy_test.py rpc` (the gRPC calls, in a child process) and returns its JSON."""
        assert "grpc" not in sys.modules, "gRPC was loaded into the test process (see the top note)"
        r = run([sys.executable, os.path.abspath(__file__), "rpc", "--source", ARGS.source,
                 "--server", ARGS.server, "--client", ARGS.client, "--init-model", ARGS.init_model,
                 "--target", cls.target, "--tmp", cls.tmp, "--what", what], timeout=300)
        assert r.returncode == 0, f"deploy_test.py rpc --what {what}: {r.stdout}{r.stderr}"
        return json.loads(r.stdout)

    @classmethod
    def replay_ghz(cls):
        """{config name: [{predictions, job_id}]}: each ghz data file's requests, as ghz sends them."""
        return cls.rpc("ghz")

    @classmethod
    def send_malformed(cls):
        """A ragged grid: INVALID_ARGUMENT, so the error series have data."""
        code = cls.rpc("malformed")
        assert code == "INVALID_ARGUMENT", f"a ragged grid was answered with {code}"

    @classmethod
    def server_requests(cls):
        with urllib.request.urlopen(f"http://127.0.0.1:{cls.metrics_port}/metrics", timeout=5) as r:
            text = r.read().decode()
        return sum(float(v) for v in re.findall(r"^arc_requests_total\{.*\} (\S+)$", text, re.MULTILINE))

    @classmethod
    def log(cls):
        cls.server_log.flush()
        with open(cls.server_log.name) as f:
            return f.read()

    @classmethod
    def api(cls, path, **params):
        url = f"http://127.0.0.1:{cls.prom_port}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params, doseq=True)
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            return json.loads(e.read())

    @classmethod
    def query(cls, expr):
        body = cls.api("query", query=expr)
        if body.get("status") != "success":
            raise AssertionError(f"{expr}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]["result"]

    @classmethod
    def wait_for(cls, fn, seconds, what):
        deadline = time.time() + seconds
        while True:
            try:
                if fn():
                    return
            except (OSError, AssertionError, ValueError):
                pass
            if time.time() > deadline:
                raise AssertionError(f"{what} within {seconds} s\nserver log:\n{cls.log()[-3000:]}")
            time.sleep(0.25)

    @classmethod
    def tearDownClass(cls):
        # SIGTERM first: tini forwards it to arc-server (which tini keeps in its own process group,
        # so killing tini's group alone would orphan it); then SIGKILL whatever is left.
        for p in reversed(cls.procs):
            family = [p.pid] + descendants(p.pid)
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    pass
            for pid in family:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if p.poll() is None:
                p.wait(timeout=10)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # --- checks (run in name order; the SIGTERM check is last by name)

    def test_1_every_dashboard_query_returns_data(self):
        d = dashboard()
        exprs = dashboard_exprs(d)
        self.assertGreaterEqual(len(exprs), 30)
        empty_ok = 0
        for title, expr in exprs:
            with self.subTest(panel=title, expr=expr):
                result = self.query(grafana_subst(expr))
                if any(name in expr for name in NO_SERIES_ON_CPU):
                    self.assertEqual(result, [], "CUDA memory on a CPU server")
                    empty_ok += 1
                    continue
                self.assertTrue(result, f"no data: {grafana_subst(expr)}")
        self.assertEqual(empty_ok, 2)
        var = d["templating"]["list"][0]["query"]["query"]
        m = re.match(r"label_values\((\w+), (\w+)\)", var)
        values = self.api(f"label/{m.group(2)}/values", **{"match[]": m.group(1)})["data"]
        self.assertEqual(values, [f"127.0.0.1:{self.metrics_port}"])

    def test_1_rates_moved(self):
        # The traffic happened between scrapes: request, token and step rates are positive.
        for expr in ('sum(rate(arc_requests_total{code="OK",method="Solve"}[1m]))',
                     'sum(rate(arc_requests_total{code="INVALID_ARGUMENT"}[1m]))',
                     "sum(rate(arc_ttt_steps_total[1m]))", "sum(rate(arc_generated_tokens_total[1m]))",
                     'sum(rate(arc_phase_duration_seconds_count{phase="inference"}[1m]))',
                     "sum(rate(arc_search_programs_total[1m]))",
                     'sum(rate(arc_search_tasks_total{explained="true"}[1m]))',
                     'sum(rate(arc_phase_duration_seconds_count{phase="search"}[1m]))'):
            (sample,) = self.query(expr)
            self.assertGreater(float(sample["value"][1]), 0, expr)

    def test_2_alert_expressions_evaluate_and_rules_are_healthy(self):
        rules = alert_rules()
        for r in rules:
            with self.subTest(alert=r["alert"]):
                result = self.query(r["expr"])
                self.assertEqual(result, [], f"{r['alert']} would fire on a healthy server: {result}")
        # Prometheus itself loaded rules.yml and evaluated every rule without error.
        self.wait_for(lambda: all(rule.get("lastEvaluation", "").startswith("2") and
                                  not rule["lastEvaluation"].startswith("0001")
                                  for g in self.api("rules")["data"]["groups"] for rule in g["rules"]),
                      10, "rules evaluated")
        loaded = {rule["name"]: rule for g in self.api("rules")["data"]["groups"] for rule in g["rules"]}
        self.assertEqual(set(loaded), {r["alert"] for r in rules})
        for name, rule in loaded.items():
            self.assertEqual(rule["health"], "ok", f"{name}: {rule.get('lastError')}")
            self.assertEqual(rule["state"], "inactive", name)

    def test_2_ghz_data_solved(self):
        self.assertEqual(set(self.ghz_replies), {n for n, _ in ghz_configs()})
        for name, replies in self.ghz_replies.items():
            for reply in replies:
                self.assertEqual(reply["predictions"], 1, name)
                self.assertTrue(reply["job_id"], name)

    def test_3_healthcheck_and_sigterm_drain_through_tini(self):
        r = run(self.health_cmd, timeout=10)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.server.send_signal(signal.SIGTERM)  # what `docker stop` sends to PID 1
        rc = self.server.wait(timeout=30)
        self.assertEqual(rc, 0, self.log()[-3000:])
        log = self.log()
        self.assertIn("event=signal signal=SIGTERM", log)
        self.assertRegex(log, r"event=stopped .*clean=true")
        r = run(self.health_cmd, timeout=10)
        self.assertNotEqual(r.returncode, 0, "HEALTHCHECK after the server stopped")


def descendants(pid):
    """Every live descendant of `pid` (from /proc), children first."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    return descendants_of(children, pid)


def descendants_of(children, pid):
    out = []
    for child in children.get(pid, []):
        out += [child] + descendants_of(children, child)
    return out


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rpc_main():
    """`deploy_test.py rpc`: the test's own gRPC calls, printed as JSON on stdout. A separate process
    so that the test process never loads gRPC (see the note at the top)."""
    pb = proto_module(ARGS.tmp)  # runs protoc: before gRPC is loaded, so no fork follows it
    import grpc
    with grpc.insecure_channel(ARGS.target) as channel:
        solve = channel.unary_unary("/arc.v1.ArcSolver/Solve",
                                    request_serializer=pb.SolveRequest.SerializeToString,
                                    response_deserializer=pb.SolveResponse.FromString)
        if ARGS.what == "malformed":
            bad = pb.SolveRequest(task_json='{"train": [{"input": [[1, 2], [3]], "output": [[1]]}], '
                                            '"test": [{"input": [[1]]}]}')
            try:
                solve(bad, timeout=30)
                out = "OK"
            except grpc.RpcError as e:
                out = e.code().name
        else:
            out = {}
            for name, cfg in ghz_configs():
                replies = [solve(req, timeout=duration_seconds(cfg["timeout"]))
                           for req in ghz_requests(pb, cfg)]
                out[name] = [{"predictions": len(r.predictions), "job_id": r.job_id} for r in replies]
    print(json.dumps(out))


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["static", "live", "rpc"])
    parser.add_argument("--source", required=True)
    parser.add_argument("--server", required=True)
    parser.add_argument("--client", required=True)
    parser.add_argument("--init-model", required=True)
    parser.add_argument("--target", help="rpc: the server's host:port")
    parser.add_argument("--tmp", help="rpc: the live test's scratch directory (generated protos)")
    parser.add_argument("--what", choices=["malformed", "ghz"], help="rpc: which calls to make")
    parser.add_argument("unittest_args", nargs="*")
    ARGS = parser.parse_args()
    ARGS.source = os.path.abspath(ARGS.source)
    if ARGS.part == "rpc":
        rpc_main()
        return
    cls = StaticChecks if ARGS.part == "static" else LiveChecks
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(cls)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    sys.exit(0 if result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
