"""Helpers of the subprocess tests tests/security_test.py and tests/fault_test.py: arc-server
child processes on loopback ports, test certificates made with openssl, a tiny model.

Environment (set by tests/CMakeLists.txt): ARC_SERVER_BIN, ARC_CLIENT_BIN, ARC_INIT_MODEL_BIN,
ARC_SOURCE_DIR, and PYTHONPATH holding build/client/python (the arc_client package).

Children are started with subprocess's default spawn (no preexec_fn): a fork after `import grpc`
is unsafe with Debian's gRPC 1.51 (see tests/deploy_test.py). `setpriv --pdeathsig` kills a
server whose test died.
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest
import time

# Unset when imported by a test that passes the binaries itself (tests/deploy_test.py uses only
# make_certs).
SERVER = os.environ.get("ARC_SERVER_BIN")
CLIENT = os.environ.get("ARC_CLIENT_BIN")
INIT_MODEL = os.environ.get("ARC_INIT_MODEL_BIN")
SOURCE = os.environ.get("ARC_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FLIP = os.path.join(SOURCE, "examples", "flip.json")
_LOGFMT = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')


def tiny_model(dir_, seed=7):
    out = os.path.join(dir_, "model")
    if not os.path.isdir(out):
        r = subprocess.run([INIT_MODEL, "--preset", "tiny", "--seed", str(seed), "--out", out],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
    return out


def make_certs(dir_, server_names=("IP:127.0.0.1", "DNS:localhost")):
    """A CA, a server certificate for `server_names` (subjectAltName entries; by default 127.0.0.1
    and localhost), two client certificates (CN client-a, client-b). Returns a dict of PEM paths."""
    def run(*args):
        r = subprocess.run(["openssl", *args], cwd=dir_, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, f"openssl {' '.join(args)}:\n{r.stderr}"

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=arc-test-ca", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def leaf(name, cn, ext):
        with open(os.path.join(dir_, f"{name}.ext"), "w") as f:
            f.write(ext)
        run("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext")

    leaf("server", "arc-server", f"subjectAltName={','.join(server_names)}\n"
         "extendedKeyUsage=serverAuth\n")
    leaf("client-a", "client-a", "extendedKeyUsage=clientAuth\n")
    leaf("client-b", "client-b", "extendedKeyUsage=clientAuth\n")
    return {n: os.path.join(dir_, n) for n in
            ("ca.crt", "server.crt", "server.key", "client-a.crt", "client-a.key",
             "client-b.crt", "client-b.key")}


def read(path):
    with open(path, "rb") as f:
        return f.read()


def parse_line(line):
    return {k: v.strip('"') for k, v in _LOGFMT.findall(line)}


class Server:
    """An arc-server child on 127.0.0.1 (port picked by the server unless `address` is given)."""

    def __init__(self, dir_, model, flags=(), address="127.0.0.1:0", wait_serving=True, name="server"):
        self.log_path = os.path.join(dir_, f"{name}-{time.monotonic_ns()}.log")
        cmd = [SERVER, f"--address={address}", "--metrics_address=", f"--model={model}",
               "--threads=1", *flags]
        if shutil.which("setpriv"):
            cmd = ["setpriv", "--pdeathsig", "KILL", "--"] + cmd
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT)
        self.port = None
        if wait_serving:
            self.port = int(self.wait_event("listening")["port"])
            self.wait_event("serving")
            self.target = f"127.0.0.1:{self.port}"

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def events(self, name):
        return [parse_line(l) for l in self.log().splitlines() if f"event={name} " in l + " "]

    def wait_event(self, name, timeout=60, count=1):
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = self.events(name)
            if len(found) >= count:
                return found[count - 1]
            if self.process.poll() is not None:
                raise AssertionError(f"arc-server exited ({self.process.returncode}) before "
                                     f"event={name}:\n{self.log()}")
            time.sleep(0.05)
        raise AssertionError(f"no event={name} within {timeout} s:\n{self.log()}")

    def wait_exit(self, timeout):
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            if self.wait_exit(20) is None:
                raise AssertionError(f"arc-server did not stop on SIGTERM:\n{self.log()}")


def arc_client(*args, timeout=120):
    return subprocess.run([CLIENT, *args], capture_output=True, text=True, timeout=timeout)


def temp_dir(prefix):
    return tempfile.mkdtemp(prefix=f"arc-{prefix}-")


class ServersTestCase(unittest.TestCase):
    """A test class whose tests start arc-server subprocesses over one tiny model in a temporary
    folder (named after PREFIX); every server still running is killed when the class ends."""

    PREFIX = "servers"

    @classmethod
    def make_model(cls, dir_):
        """The model directory the class's servers load; a subclass may make another."""
        return tiny_model(dir_)

    @classmethod
    def setUpClass(cls):
        cls.dir = temp_dir(cls.PREFIX)
        cls.servers = []
        try:
            cls.model = cls.make_model(cls.dir)
        except BaseException:
            shutil.rmtree(cls.dir, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        for s in cls.servers:
            if s.process.poll() is None:
                s.process.kill()
                s.process.wait()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def start(self, flags=(), **kw):
        s = Server(self.dir, self.model, flags, **kw)
        self.servers.append(s)
        return s
