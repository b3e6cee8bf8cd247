"""Issue 4: service mode — schedule, no overlap, lock, signals, logs, progress, metrics."""
import json
import os
import pty
import re
import select
import signal
import subprocess
import time
import unittest
import urllib.error
import urllib.request

from harness import (SYNCD, FaultProxy, Moto, module_moto, TempDirTest, all_objects, clean_env, free_port,
                     get_bytes, local_dirs, marker_key, merkle, wait_for, write_config, write_tree)


def setUpModule():
    global MOTO
    MOTO = module_moto("service")


class Service(TempDirTest):
    def stop(self, p, timeout=20):
        p.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        rc = p.wait(timeout)
        return rc, time.monotonic() - t0

    def keys(self, bucket):
        return set(all_objects(MOTO.client(), bucket))

    def test_new_files_are_uploaded_and_marked_while_running(self):
        bucket = MOTO.make_bucket(self.bucket_name())
        write_tree(self.tree, {"a/1.txt": "one"})
        self.configure(MOTO.endpoint, bucket, sync_interval="1s")
        p = self.start()
        self.assertTrue(wait_for(lambda: "a/syncd.txt" in self.keys(bucket), 10), self.stderr())
        write_tree(self.tree, {"b/2.txt": "two", "a/3.txt": "three"})
        t0 = time.monotonic()
        ok = wait_for(lambda: {"b/syncd.txt", "b/2.txt", "a/3.txt"} <= self.keys(bucket), 10)
        self.assertTrue(ok, self.stderr())
        self.assertLess(time.monotonic() - t0, 4, "picked up within a couple of intervals")
        # The markers of a and the root are rewritten with the new digests.
        s3 = MOTO.client()
        # The oracle takes the ETags from boto3's listing.
        self.assertTrue(wait_for(lambda: json.loads(get_bytes(s3, bucket, "syncd.txt"))["digest"]
                                 == merkle(self.tree, objects=all_objects(s3, bucket))[0], 5))
        self.assertEqual(json.loads(get_bytes(s3, bucket, "a/syncd.txt"))["digest"],
                         merkle(self.tree, "a", objects=all_objects(s3, bucket))[0])
        rc, took = self.stop(p)
        self.assertEqual(rc, 0, self.stderr())

    def test_cycles_never_overlap_and_late_ticks_are_skipped(self):
        bucket = MOTO.make_bucket(self.bucket_name())
        write_tree(self.tree, {"slow/big.bin": os.urandom(4096), "x/y.txt": "y"})
        proxy = FaultProxy(MOTO)
        self.addCleanup(proxy.stop)
        proxy.delay_keys = {"slow/big.bin": 3.5}
        self.configure(proxy.endpoint, bucket, sync_interval="1s")
        p = self.start()
        self.assertTrue(wait_for(lambda: "syncd.txt" in self.keys(bucket), 20), self.stderr())
        write_tree(self.tree, {"late/z.txt": "z"})
        self.assertTrue(wait_for(lambda: "late/syncd.txt" in self.keys(bucket), 10), self.stderr())
        rc, _ = self.stop(p)
        self.assertEqual(rc, 0)
        reqs = proxy.requests()
        lists = [q for q in reqs if "list-type=2" in q.path]
        self.assertGreaterEqual(len(lists), 2)
        # A cycle starts with its LIST; no request of an earlier cycle may still be in flight.
        for lst in lists:
            overlapping = [q for q in reqs if q is not lst and q.start < lst.start < q.end]
            self.assertFalse(overlapping, f"cycle started while {overlapping} were in flight")
        self.assertIn("skipped", self.stderr())

    def test_second_process_is_refused_while_the_first_runs(self):
        bucket = MOTO.make_bucket(self.bucket_name())
        write_tree(self.tree, {"a.txt": "a"})
        self.configure(MOTO.endpoint, bucket, sync_interval="1h")
        p = self.start()
        self.assertTrue(wait_for(lambda: "syncd.txt" in self.keys(bucket), 10), self.stderr())
        r = subprocess.run([SYNCD, "--once", self.conf], env=clean_env(self.state),
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("already syncing", r.stderr)
        self.assertIn(self.state, r.stderr)  # says where the lock lives
        rc, _ = self.stop(p)
        self.assertEqual(rc, 0)
        r = subprocess.run([SYNCD, "--once", self.conf], env=clean_env(self.state),
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_sigterm_mid_cycle_exits_cleanly_and_marks_nothing_unverified(self):
        bucket = MOTO.make_bucket(self.bucket_name())
        files = {f"run{r}/lane{l}/f{i}.dat": os.urandom(2000)
                 for r in range(3) for l in range(3) for i in range(6)}
        write_tree(self.tree, files)
        proxy = FaultProxy(MOTO)
        self.addCleanup(proxy.stop)
        proxy.delay_puts = 0.3
        self.configure(proxy.endpoint, bucket, concurrency=4)
        p = self.start("--once")
        self.assertTrue(wait_for(lambda: len([q for q in proxy.requests() if q.method == "PUT"]) >= 8,
                                 30), self.stderr())
        rc, took = self.stop(p)
        self.assertEqual(rc, 0, self.stderr())
        self.assertLess(took, 12, "within the grace period")
        self.assertIn("SIGTERM", self.stderr())
        s3 = MOTO.client()
        objects = self.keys(bucket)
        self.assertNotIn("syncd.txt", objects)
        for d in local_dirs(self.tree):
            if marker_key("", d) in objects:
                for f in files:
                    if f.startswith(d + "/"):
                        self.assertIn(f, objects, f"{d} marked without {f}")
        self.assertLess(len([k for k in objects if k in files]), len(files), "stopped early")
        proxy.delay_puts = 0
        r = subprocess.run([SYNCD, "--once", self.conf], env=clean_env(self.state),
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        objects = all_objects(s3, bucket)
        for f, data in files.items():
            self.assertEqual(get_bytes(s3, bucket, f), data)
        self.assertEqual({k for k in objects if k.endswith("syncd.txt")},
                         {marker_key("", d) for d in local_dirs(self.tree)})

    def test_metrics_match_the_server_and_healthz_follows_the_endpoint(self):
        bucket = MOTO.make_bucket(self.bucket_name())
        write_tree(self.tree, {f"d{i}/f{j}.txt": f"{i}{j}" for i in range(3) for j in range(4)})
        proxy = FaultProxy(MOTO)
        self.addCleanup(proxy.stop)
        port = free_port()
        self.configure(proxy.endpoint, bucket, sync_interval="1s", metrics_listen=f"127.0.0.1:{port}")
        p = self.start()
        base = f"http://127.0.0.1:{port}"

        def get(path):
            try:
                with urllib.request.urlopen(base + path, timeout=5) as r:
                    return r.status, r.read().decode()
            except urllib.error.HTTPError as e:
                return e.code, e.read().decode()
            except OSError:
                return None, ""

        def metrics():
            status, text = get("/metrics")
            if status != 200:
                return None
            out = {}
            for line in text.splitlines():
                if not line or line.startswith("#"):
                    self.assertRegex(line, r"^(# (HELP|TYPE) \w+ .+)?$")
                    continue
                m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_]+="[^"]*"(,[a-zA-Z_]+="[^"]*")*\})? '
                                 r'(-?[0-9.eE+-]+|NaN|[+-]Inf)', line)
                self.assertTrue(m, f"not a Prometheus sample line: {line!r}")
                out[m.group(1) + (m.group(2) or "")] = float(m.group(4))
            return out

        self.assertTrue(wait_for(lambda: (metrics() or {}).get("syncd_cycles_total", 0) >= 2, 15),
                        self.stderr())
        self.assertEqual(get("/healthz")[0], 200)
        # Pause between cycles is not guaranteed; read metrics and the proxy log while no cycle
        # runs, and compare.
        def consistent():
            m = metrics()
            if not m or m["syncd_cycle_in_progress"] != 0:
                return None
            reqs = proxy.requests()
            m2 = metrics()
            if m2 != m:
                return None
            return m, reqs
        m, reqs = wait_for(consistent, 10)
        puts = [q for q in reqs if q.method == "PUT"]
        lists = [q for q in reqs if "list-type=2" in q.path]
        self.assertEqual(m['syncd_s3_requests_total{operation="put"}'], len(puts))
        self.assertEqual(m['syncd_s3_requests_total{operation="list"}'], len(lists))
        self.assertEqual(m["syncd_files_uploaded_total"], 12)
        self.assertEqual(m["syncd_markers_written_total"], 4)
        self.assertEqual(m["syncd_directories_unmarked"], 0)
        self.assertGreater(m["syncd_last_success_timestamp_seconds"], time.time() - 60)

        proxy.down = True
        st = wait_for(lambda: (lambda r: r if r[0] == 503 else None)(get("/healthz")), 60)
        self.assertTrue(st, "healthz never turned 503 while the endpoint was down")
        self.assertIn("failed", st[1])
        proxy.down = False
        self.assertTrue(wait_for(lambda: get("/healthz")[0] == 200, 60), self.stderr())
        rc, _ = self.stop(p)
        self.assertEqual(rc, 0)

    def test_json_logs_are_one_object_per_line(self):
        bucket = MOTO.make_bucket(self.bucket_name())
        s3 = MOTO.client()
        s3.put_object(Bucket=bucket, Key="conflict.txt", Body=b"longer than local")
        write_tree(self.tree, {"a/b.txt": "b", "conflict.txt": "short"})
        os.symlink("b.txt", os.path.join(self.tree, "a", "link"))
        with open(os.path.join(os.fsencode(self.tree), b"a", b"bad\xff"), "wb") as f:
            f.write(b"x")
        self.configure(MOTO.endpoint, bucket, aws_secret_key="a-secret-never-logged")
        r = self.syncd("--once", "--log-format=json")
        self.assertExit(r, 1)
        events = []
        for line in r.stderr.splitlines():
            j = json.loads(line)
            self.assertIn("event", j)
            self.assertIn("ts", j)
            self.assertIn("level", j)
            events.append(j)
        kinds = {e["event"] for e in events}
        self.assertLessEqual({"cycle_start", "upload", "skip", "conflict", "error", "cycle_end"}, kinds)
        end = [e for e in events if e["event"] == "cycle_end"][-1]
        for k in ("files_seen", "uploaded", "bytes_uploaded", "verified", "pending", "conflicts",
                  "failed", "markers_written", "walk_s", "list_s"):
            self.assertIn(k, end)
        self.assertEqual(end["conflicts"], 1)
        self.assertNotIn("a-secret-never-logged", r.stderr + r.stdout)
        # Same via the config key.
        self.configure(MOTO.endpoint, bucket, log_format="json")
        r = self.syncd("--once")
        for line in r.stderr.splitlines():
            self.assertIn("event", json.loads(line))

    def test_progress_lines_during_a_long_cycle(self):
        bucket = MOTO.make_bucket(self.bucket_name())
        write_tree(self.tree, {f"f{i}.bin": os.urandom(1000) for i in range(6)})
        proxy = FaultProxy(MOTO)
        self.addCleanup(proxy.stop)
        proxy.delay_puts = 0.6
        self.configure(proxy.endpoint, bucket, concurrency=1, progress_interval="1s")
        r = self.syncd("--once")
        self.assertExit(r, 0)
        lines = [l for l in r.stderr.splitlines() if "progress:" in l]
        self.assertGreaterEqual(len(lines), 2, r.stderr)
        self.assertRegex(lines[-1], r"\d+/6 files, .*/s")

    def test_live_progress_line_on_a_terminal(self):
        bucket = MOTO.make_bucket(self.bucket_name())
        write_tree(self.tree, {f"f{i}.bin": os.urandom(1000) for i in range(4)})
        proxy = FaultProxy(MOTO)
        self.addCleanup(proxy.stop)
        proxy.delay_puts = 0.5
        self.configure(proxy.endpoint, bucket, concurrency=1)
        master, slave = pty.openpty()
        p = subprocess.Popen([SYNCD, "--once", self.conf], env=clean_env(self.state),
                             stdout=subprocess.DEVNULL, stderr=slave)
        os.close(slave)
        out = b""
        while True:
            ready, _, _ = select.select([master], [], [], 30)
            if not ready:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        os.close(master)
        self.assertEqual(p.wait(30), 0)
        text = out.decode(errors="replace")
        self.assertRegex(text, r"\r\x1b\[K\d+/4 files, [^\n]*ETA")

    def test_sighup_reloads_and_an_invalid_file_keeps_the_old_config(self):
        bucket = MOTO.make_bucket(self.bucket_name())
        write_tree(self.tree, {"a.txt": "a"})
        self.configure(MOTO.endpoint, bucket, sync_interval="1s", prefix="one")
        p = self.start()
        self.assertTrue(wait_for(lambda: "one/syncd.txt" in self.keys(bucket), 10), self.stderr())

        with open(self.conf, "a") as f:
            f.write("no_such_key = 1\n")
        p.send_signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: "keeping the previous configuration" in self.stderr(), 10))
        write_tree(self.tree, {"b.txt": "b"})
        self.assertTrue(wait_for(lambda: "one/b.txt" in self.keys(bucket), 10), self.stderr())
        self.assertIsNone(p.poll())

        self.configure(MOTO.endpoint, bucket, sync_interval="1s", prefix="two")
        p.send_signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: {"two/a.txt", "two/b.txt", "two/syncd.txt"} <= self.keys(bucket),
                                 10), self.stderr())
        self.assertIn("configuration reloaded", self.stderr())
        rc, _ = self.stop(p)
        self.assertEqual(rc, 0)

    def test_sighup_during_a_cycle_reloads_when_the_cycle_ends(self):
        # Not at the next tick, a whole sync_interval later.
        bucket = MOTO.make_bucket(self.bucket_name())
        write_tree(self.tree, {f"f{i}.bin": os.urandom(100) for i in range(4)})
        proxy = FaultProxy(MOTO)
        self.addCleanup(proxy.stop)
        proxy.delay_puts = 0.5
        self.configure(proxy.endpoint, bucket, sync_interval="1m", concurrency=1)
        p = self.start()
        self.assertTrue(wait_for(lambda: any(q.method == "PUT" for q in proxy.requests()), 10), self.stderr())
        p.send_signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: "re-read when this cycle ends" in self.stderr(), 5), self.stderr())
        self.assertTrue(wait_for(lambda: "configuration reloaded" in self.stderr(), 20), self.stderr())
        self.assertEqual(self.stderr().count("sync cycle started"), 1, "reloaded before the next cycle")
        rc, _ = self.stop(p)
        self.assertEqual(rc, 0, self.stderr())

    def test_sighup_with_local_dir_spelled_otherwise_reloads_and_keeps_syncing(self):
        # Issue 16: a trailing '/' (or a symlink to the same directory) is the same target, so a
        # reload keeps the lock it holds instead of being refused by it.
        bucket = MOTO.make_bucket(self.bucket_name())
        write_tree(self.tree, {"a.txt": "a"})
        self.configure(MOTO.endpoint, bucket, sync_interval="1s")
        p = self.start()
        self.assertTrue(wait_for(lambda: "syncd.txt" in self.keys(bucket), 10), self.stderr())
        link = os.path.join(self.tmp, "link-to-tree")
        os.symlink(self.tree, link)
        for n, local_dir in enumerate([self.tree + "/", link, link + "/./"], start=1):
            self.configure(MOTO.endpoint, bucket, sync_interval="1s", local_dir=local_dir)
            p.send_signal(signal.SIGHUP)
            self.assertTrue(wait_for(lambda: self.stderr().count("configuration reloaded") == n, 10),
                            f"reload {n} ({local_dir}):\n{self.stderr()}")
            self.assertNotIn("refusing", self.stderr())
            self.assertNotIn("keeping the previous configuration", self.stderr())
            write_tree(self.tree, {f"after-{n}.txt": str(n)})
            self.assertTrue(wait_for(lambda: f"after-{n}.txt" in self.keys(bucket), 10), self.stderr())
        self.assertIsNone(p.poll())
        # The lock is still held: a second process for the same target is refused.
        r = subprocess.run([SYNCD, "--once", self.conf], env=clean_env(self.state),
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("already syncing", r.stderr)
        self.assertIn(f"pid {p.pid})", r.stderr)
        rc, _ = self.stop(p)
        self.assertEqual(rc, 0, self.stderr())

    def test_metrics_listen_takes_a_host_name(self):
        bucket = MOTO.make_bucket(self.bucket_name())
        write_tree(self.tree, {"a.txt": "a"})
        port = free_port()
        self.configure(MOTO.endpoint, bucket, sync_interval="1s", metrics_listen=f"localhost:{port}")
        r = self.syncd("--check-config")
        self.assertExit(r, 0)
        p = self.start()

        def healthz(host):
            try:
                with urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=5) as resp:
                    return resp.status
            except urllib.error.HTTPError as e:
                return e.code
            except OSError:
                return None
        self.assertEqual(wait_for(lambda: healthz("localhost"), 15), 200, self.stderr())
        # Every address the name stands for is served, the ones the start-up line names.
        serving = re.search(r"serving /metrics and /healthz on localhost:%d \((.*)\)" % port, self.stderr())
        self.assertTrue(serving, self.stderr())
        addresses = serving.group(1).split(", ")
        self.assertIn(f"127.0.0.1:{port}", addresses)
        for address in addresses:
            self.assertEqual(healthz(address.rsplit(":", 1)[0]), 200, address)
        self.assertIsNone(p.poll())
        rc, _ = self.stop(p)
        self.assertEqual(rc, 0, self.stderr())
        # --check-config shows what the name stands for.
        self.assertIn(f"metrics_listen = localhost:{port} (listens on ", self.syncd("--check-config").stdout)

    def test_metrics_listen_host_that_does_not_resolve_is_refused_with_its_line(self):
        bucket = MOTO.make_bucket(self.bucket_name())
        write_tree(self.tree, {"a.txt": "a"})
        self.configure(MOTO.endpoint, bucket, metrics_listen="no-such-host.invalid:9108")
        with open(self.conf) as f:
            line = 1 + [l.split(" =")[0] for l in f].index("metrics_listen")
        expected = f"syncd: {self.conf}:{line}: metrics_listen: 'no-such-host.invalid' does not resolve"
        r = self.syncd("--check-config")
        self.assertExit(r, 2)
        self.assertIn(expected, r.stderr)
        r = self.syncd("--once")
        self.assertExit(r, 2)
        self.assertIn(expected, r.stderr)
        self.assertIn("configuration invalid; nothing was done", r.stderr)
        self.assertEqual(self.keys(bucket), set())

    def test_secret_permission_warning_is_given_once(self):
        bucket = MOTO.make_bucket(self.bucket_name())
        write_tree(self.tree, {"a.txt": "a"})
        self.configure(MOTO.endpoint, bucket, aws_secret_key="a-secret")
        os.chmod(self.conf, 0o644)
        warning = "holds a secret and is readable by group or others"
        for args in (["--check-config"], ["--once"], ["--dry-run"]):
            r = self.syncd(*args)
            self.assertExit(r, 0)
            self.assertEqual(r.stderr.count(warning), 1, f"{args}:\n{r.stderr}")

        # A service warns at start, and a reload that leaves the file as it was does not say it
        # again; a reload after the file was fixed and made readable again does.
        self.configure(MOTO.endpoint, bucket, aws_secret_key="a-secret", sync_interval="1s")
        os.chmod(self.conf, 0o644)
        p = self.start()
        self.assertTrue(wait_for(lambda: "syncd.txt" in self.keys(bucket), 10), self.stderr())
        for n, mode in enumerate([0o644, 0o644, 0o600, 0o640], start=1):
            os.chmod(self.conf, mode)
            p.send_signal(signal.SIGHUP)
            self.assertTrue(wait_for(lambda: self.stderr().count("configuration reloaded") == n, 10), self.stderr())
            self.assertEqual(self.stderr().count(warning), 1 if n < 4 else 2, f"reload {n}:\n{self.stderr()}")
        rc, _ = self.stop(p)
        self.assertEqual(rc, 0, self.stderr())

    def test_clean_shutdown_as_pid_1(self):
        bucket = MOTO.make_bucket(self.bucket_name())
        write_tree(self.tree, {f"d/f{i}.bin": os.urandom(500) for i in range(10)})
        proxy = FaultProxy(MOTO)
        self.addCleanup(proxy.stop)
        proxy.delay_puts = 0.5
        self.configure(proxy.endpoint, bucket, sync_interval="1s", concurrency=2)
        outer = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", SYNCD, self.conf],
                                 env=clean_env(self.state), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: outer.poll() is None and (outer.kill(), outer.wait()))

        def child():
            try:
                with open(f"/proc/{outer.pid}/task/{outer.pid}/children") as f:
                    kids = f.read().split()
                return int(kids[0]) if kids else None
            except OSError:
                return None
        pid = wait_for(child, 10)
        self.assertTrue(pid)
        with open(f"/proc/{pid}/status") as f:
            self.assertIn("NSpid:\t%d\t1" % pid, f.read(), "syncd is not PID 1 in its namespace")
        self.assertTrue(wait_for(lambda: any(q.method == "PUT" for q in proxy.requests()), 10))
        os.kill(pid, signal.SIGTERM)
        _, err = outer.communicate(timeout=20)
        self.assertEqual(outer.returncode, 0, err)
        self.assertIn("SIGTERM", err)


class OperationsFiles(TempDirTest):
    def test_example_config_names_every_key_and_validates(self):
        example = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__)))), "docs", "examples", "syncd.conf")
        with open(example) as f:
            text = f.read()
        text = re.sub(r"(?m)^local_dir = .*$", f"local_dir = {self.tree}", text)
        with open(self.conf, "w") as f:
            f.write(text)
        os.chmod(self.conf, 0o600)
        r = self.syncd("--check-config")
        self.assertExit(r, 0)
        effective = {line.split(" = ", 1)[0] for line in r.stdout.splitlines() if " = " in line}
        effective.discard("credentials_from")  # --check-config says where credentials came from
        self.assertGreater(len(effective), 20)
        documented = set(re.findall(r"(?m)^#?([a-z_0-9]+) = ", text))
        self.assertEqual(effective - documented, set(), "keys missing from docs/examples/syncd.conf")
        self.assertEqual(documented - effective, set(), "example names keys syncd does not know")


if __name__ == "__main__":
    unittest.main()
