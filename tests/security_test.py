"""Transport security, identities and ownership of arc-server as a subprocess (ctest
security_test, label server): TLS, mutual TLS, bearer tokens, per-identity jobs, random job ids,
a busy port, the --insecure rule and --reflection=false. Certificates are made by openssl here.
See docs/SECURITY.md."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import secure_server_util as u  # noqa: E402

import grpc  # noqa: E402
import arc_client  # noqa: E402
from arc_client import ArcError  # noqa: E402

TOKENS = {"alice": "alice-0123456789abcdef0123456789", "bob": "bob-fedcba9876543210fedcba98765"}
# A job that trains until cancelled (tiny model: thousands of steps).
LONG = dict(experts="ttt", ttt_max_steps=100000, ttt_epochs=100, ttt_max_samples=250,
            ttt_batch_size=1, ttt_augment=True)


def code_of(fn):
    try:
        fn()
    except ArcError as e:
        return e.code
    return grpc.StatusCode.OK


class SecurityTest(u.ServersTestCase):
    PREFIX = "security"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.certs = u.make_certs(cls.dir)
        cls.token_file = os.path.join(cls.dir, "tokens")
        with open(cls.token_file, "w") as f:
            f.write("# token identity\n")
            for who, token in TOKENS.items():
                f.write(f"{token} {who}\n")
        for who, token in TOKENS.items():
            with open(os.path.join(cls.dir, f"{who}.token"), "w") as f:
                f.write(token + "\n")

    def test_tls_and_plaintext_clients(self):
        c = self.certs
        s = self.start([f"--tls_cert={c['server.crt']}", f"--tls_key={c['server.key']}"])
        self.assertEqual(s.events("listening")[0]["tls"], "tls")
        with arc_client.Client(s.target, root_certificates=u.read(c["ca.crt"]), timeout=30) as cl:
            self.assertTrue(cl.info().model_name)
            job = cl.submit(u.FLIP, experts="search")
            self.assertEqual(cl.get(job).job_id, job)
        # localhost is in the certificate's names too; arc-client's flags.
        r = u.arc_client("--server", f"localhost:{s.port}", "--tls_ca", c["ca.crt"], "info")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = u.arc_client("--server", s.target, "--tls_ca", c["ca.crt"], "--tls_server_name",
                         "localhost", "solve", u.FLIP, "--experts", "search")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # A plaintext client cannot talk to a TLS server.
        with arc_client.Client(s.target, timeout=5) as cl:
            self.assertEqual(code_of(cl.info), grpc.StatusCode.UNAVAILABLE)
        r = u.arc_client("--server", s.target, "--retries", "0", "--deadline", "5", "info")
        self.assertEqual(r.returncode, 1)
        self.assertIn("UNAVAILABLE", r.stderr)
        # A certificate for another name is refused.
        r = u.arc_client("--server", s.target, "--tls_ca", c["ca.crt"], "--tls_server_name",
                         "other.example", "--retries", "0", "--deadline", "5", "info")
        self.assertEqual(r.returncode, 1, r.stdout)
        s.stop()

    def test_mutual_tls_requires_a_client_certificate_and_names_the_caller(self):
        c = self.certs
        s = self.start([f"--tls_cert={c['server.crt']}", f"--tls_key={c['server.key']}",
                        f"--tls_client_ca={c['ca.crt']}"])
        self.assertEqual(s.events("listening")[0]["tls"], "mtls")
        ca = u.read(c["ca.crt"])
        with arc_client.Client(s.target, root_certificates=ca, timeout=5) as cl:
            self.assertEqual(code_of(cl.info), grpc.StatusCode.UNAVAILABLE)
        a = arc_client.Client(s.target, root_certificates=ca, timeout=30,
                              private_key=u.read(c["client-a.key"]),
                              certificate_chain=u.read(c["client-a.crt"]))
        b = arc_client.Client(s.target, root_certificates=ca, timeout=30,
                              private_key=u.read(c["client-b.key"]),
                              certificate_chain=u.read(c["client-b.crt"]))
        with a, b:
            job = a.submit(u.FLIP, experts="search")
            self.assertEqual([j.job_id for j in a.list_jobs()], [job])
            self.assertEqual(b.list_jobs(), [])
            self.assertEqual(code_of(lambda: b.get(job)), grpc.StatusCode.NOT_FOUND)
            deadline = time.time() + 20
            while not a.get(job).finished and time.time() < deadline:
                time.sleep(0.05)
        r = u.arc_client("--server", s.target, "--tls_ca", c["ca.crt"], "--tls_cert",
                         c["client-a.crt"], "--tls_key", c["client-a.key"], "list", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(job, r.stdout)
        self.assertIn(f"job_id={job} ", s.log())
        self.assertIn("owner=client-a", s.log())
        s.stop()

    def test_tokens_and_ownership(self):
        s = self.start([f"--token_file={self.token_file}", "--limit_ttt_steps=1000000"])
        self.assertEqual(s.events("listening")[0]["tokens"], "2")
        # Missing and wrong tokens.
        with arc_client.Client(s.target, timeout=10) as anon:
            e = None
            try:
                anon.list_jobs()
            except ArcError as err:
                e = err
            self.assertEqual(e.code, grpc.StatusCode.UNAUTHENTICATED)
            self.assertIn("missing bearer token", e.message)
            self.assertEqual(code_of(lambda: anon.submit(u.FLIP)), grpc.StatusCode.UNAUTHENTICATED)
        with arc_client.Client(s.target, timeout=10, token="alice-0123456789abcdef0123456788") as bad:
            self.assertEqual(code_of(bad.info), grpc.StatusCode.UNAUTHENTICATED)
        # Health stays open.
        r = u.arc_client("--server", s.target, "health")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = u.arc_client("--server", s.target, "--retries", "0", "list")
        self.assertEqual(r.returncode, 1)
        self.assertIn("UNAUTHENTICATED", r.stderr)

        alice = arc_client.Client(s.target, timeout=30, token=TOKENS["alice"])
        bob = arc_client.Client(s.target, timeout=30, token=TOKENS["bob"])
        with alice, bob:
            long_job = alice.submit(u.FLIP, request_id="shared-id", **LONG)
            other = alice.submit(u.FLIP, experts="search")
            # Ids: job- and 32 random hex digits, not a sequence.
            for j in (long_job, other):
                self.assertRegex(j, r"^job-[0-9a-f]{32}$")
            diff = abs(int(long_job[4:], 16) - int(other[4:], 16))
            self.assertGreater(diff, 1 << 64, (long_job, other))
            # Bob sees none of alice's jobs and cannot touch them.
            self.assertEqual(bob.list_jobs(), [])
            for op in (lambda: bob.get(long_job), lambda: bob.cancel(long_job),
                       lambda: list(bob.watch(long_job))):
                self.assertEqual(code_of(op), grpc.StatusCode.NOT_FOUND)
            # Request ids are per identity: bob's equal id is his own job.
            bobs = bob.submit(u.FLIP, request_id="shared-id", experts="search")
            self.assertNotEqual(bobs, long_job)
            self.assertEqual(alice.submit(u.FLIP, request_id="shared-id", **LONG),
                             long_job)
            self.assertEqual({j.job_id for j in bob.list_jobs()}, {bobs})
            self.assertEqual({j.job_id for j in alice.list_jobs()}, {long_job, other})
            # Alice's job is still running; she can cancel it.
            self.assertIn(alice.get(long_job).state, ("queued", "running"))
            alice.cancel(long_job)
            deadline = time.time() + 10
            while alice.get(long_job).state != "cancelled" and time.time() < deadline:
                time.sleep(0.05)
            self.assertEqual(alice.get(long_job).state, "cancelled")
        # arc-client with --token_file and --token.
        r = u.arc_client("--server", s.target, "--token_file", os.path.join(self.dir, "bob.token"),
                         "list", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(bobs, r.stdout)
        self.assertNotIn(long_job, r.stdout)
        r = u.arc_client("--server", s.target, "--token", TOKENS["alice"], "get", long_job)
        self.assertEqual(r.returncode, 0, r.stderr)
        s.stop()

    def test_busy_port_insecure_rule_and_reflection_flag(self):
        first = self.start(["--reflection=false"])
        second = self.start(wait_serving=False, address=f"127.0.0.1:{first.port}")
        self.assertNotEqual(second.wait_exit(30), 0, second.log())
        self.assertIn(f'cannot listen on \\"127.0.0.1:{first.port}\\"', second.log())
        # Reflection off: the reflection service is not there.
        with grpc.insecure_channel(first.target) as ch:
            call = ch.stream_stream("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                                    request_serializer=lambda b: b, response_deserializer=lambda b: b)
            with self.assertRaises(grpc.RpcError) as e:
                list(call(iter([b"\x3a\x00"]), timeout=5))
            self.assertEqual(e.exception.code(), grpc.StatusCode.UNIMPLEMENTED)
        first.stop()
        # Beyond loopback without TLS or tokens: refused, unless --insecure.
        exposed = self.start(wait_serving=False, address="0.0.0.0:0")
        self.assertEqual(exposed.wait_exit(30), 2, exposed.log())
        self.assertIn("is reachable beyond this machine", exposed.log())
        self.assertIn("--insecure", exposed.log())
        ok = self.start(["--insecure"], address="0.0.0.0:0")
        self.assertIn("event=plaintext", ok.log())
        ok.stop()
        ok = self.start([f"--token_file={self.token_file}"], address="0.0.0.0:0")
        ok.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
