"""Issue 2: a one-time sync of new files against real S3-compatible servers."""
import os
import socket
import time
import unittest

from harness import (Moto, module_moto, S3rver, TempDirTest, all_objects, get_bytes, make_ca, write_config,
                     write_tree)

AWKWARD = [
    "space name.txt", "plus+sign.txt", "percent%41.txt", "tilde~file.txt", "hash#tag.txt",
    "question?mark.txt", "quote'paren(star)*.txt", "naïve-ünïcode.txt", "emoji-😀.txt",
    "dir with space/inner+plus/deep %2F.txt",
]


def setUpModule():
    global MOTO
    MOTO = module_moto("foundation")


class OneTimeSync(TempDirTest):
    def configure(self, server, bucket, **extra):
        """The harness's configure, with this server's own credentials."""
        keys = dict(aws_access_key=server.key, aws_secret_key=server.secret)
        keys.update(extra)
        super().configure(server.endpoint, bucket, **keys)

    def test_awkward_tree_round_trips_and_second_run_uploads_nothing(self):
        bucket = MOTO.make_bucket(self.bucket_name())
        files = {name: f"content of {name}\n" for name in AWKWARD}
        files["empty.bin"] = b""
        files["nested/a/b/c/one-mib.bin"] = os.urandom(1 << 20)
        files["nested/a/sibling.txt"] = "sibling"
        write_tree(self.tree, files)
        self.configure(MOTO, bucket, prefix="/archive")

        r = self.syncd("--once")
        self.assertExit(r, 0)

        s3 = MOTO.client()
        objects = all_objects(s3, bucket)
        for rel, data in files.items():
            key = "archive/" + rel
            self.assertIn(key, objects)
            want = data.encode() if isinstance(data, str) else data
            self.assertEqual(get_bytes(s3, bucket, key), want, key)
            head = s3.head_object(Bucket=bucket, Key=key)
            self.assertIn("mtime", head["Metadata"], key)
        data_keys = {k for k in objects if not k.endswith("/syncd.txt") and k != "archive/syncd.txt"}
        self.assertEqual(data_keys, {"archive/" + k for k in files})

        before = len(MOTO.requests(bucket))
        r = self.syncd("--once")
        self.assertExit(r, 0)
        second = MOTO.requests(bucket)[before:]
        self.assertTrue(second, "the second run made no request at all")
        for req in second:
            self.assertEqual(req.method, "GET", second)
            self.assertIn("list-type=2", req.path, second)

    def test_wrong_secret_is_rejected_by_a_verifying_server(self):
        moto = Moto(self.tmp, auth=True)
        try:
            bucket = moto.make_bucket(self.bucket_name())
            write_tree(self.tree, {"a.txt": "a", "sub/b.txt": "bb"})
            self.configure(moto, bucket)
            r = self.syncd("--once")
            self.assertExit(r, 0)
            self.assertEqual(get_bytes(moto.client(), bucket, "sub/b.txt"), b"bb")

            write_tree(self.tree, {"c.txt": "c"})
            self.configure(moto, bucket, aws_secret_key="not-the-secret")
            r = self.syncd("--once")
            self.assertExit(r, 3)
            self.assertIn("SignatureDoesNotMatch", r.stderr)
            self.assertNotIn("not-the-secret", r.stdout + r.stderr)
            self.assertNotIn("c.txt", all_objects(moto.client(), bucket))
            # Reported once, not as a stack of retries.
            self.assertEqual(r.stderr.count("SignatureDoesNotMatch"), 1, r.stderr)
        finally:
            moto.stop()

    def test_https_needs_the_ca_bundle(self):
        tls = make_ca(self.tmp)
        bucket = self.bucket_name()
        srv = S3rver(self.tmp, buckets=[bucket], tls=tls)
        try:
            # big.bin goes up in parts, which over TLS are read from the file in pieces.
            big = os.urandom(12 * 1024 * 1024 + 5)
            write_tree(self.tree, {"x/y.txt": "over tls", "z.bin": os.urandom(5000), "big.bin": big})
            self.configure(srv, bucket)
            r = self.syncd("--once")
            self.assertExit(r, 3)
            self.assertRegex(r.stderr.lower(), "certificate")
            self.assertIn("ca_bundle", r.stderr)

            self.configure(srv, bucket, ca_bundle=tls[0], multipart_threshold="5MiB", part_size="5MiB")
            r = self.syncd("--once")
            self.assertExit(r, 0)
            self.assertIn("in 3 parts", r.stderr)
            self.assertEqual(get_bytes(srv.client(), bucket, "x/y.txt"), b"over tls")
            # And on the server's disk, independently of any client.
            with open(os.path.join(srv.data, bucket, "x", "y.txt._S3rver_object"), "rb") as f:
                self.assertEqual(f.read(), b"over tls")
            with open(os.path.join(srv.data, bucket, "big.bin._S3rver_object"), "rb") as f:
                self.assertEqual(f.read(), big)
        finally:
            srv.stop()

    def test_aws_ca_bundle_from_environment(self):
        tls = make_ca(self.tmp)
        bucket = self.bucket_name()
        srv = S3rver(self.tmp, buckets=[bucket], tls=tls)
        try:
            write_tree(self.tree, {"e.txt": "env"})
            self.configure(srv, bucket)
            r = self.syncd("--once", env_extra={"AWS_CA_BUNDLE": tls[0]})
            self.assertExit(r, 0)
            self.assertEqual(get_bytes(srv.client(), bucket, "e.txt"), b"env")
        finally:
            srv.stop()

    def test_missing_bucket_is_fatal(self):
        write_tree(self.tree, {"a.txt": "a"})
        self.configure(MOTO, "no-such-bucket-here")
        r = self.syncd("--once")
        self.assertExit(r, 3)
        self.assertIn("NoSuchBucket", r.stderr)
        self.assertIn("no-such-bucket-here", r.stderr)

    def test_unreachable_endpoint_fails_in_seconds(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]  # bound but not listening: connections are refused
            write_tree(self.tree, {"a.txt": "a"})
            write_config(self.conf, aws_access_key="k", aws_secret_key="s", local_dir=self.tree,
                         bucket_name="bucket", endpoint=f"http://127.0.0.1:{port}")
            t0 = time.monotonic()
            r = self.syncd("--once", timeout=120)
            took = time.monotonic() - t0
        self.assertExit(r, 3)
        self.assertIn(f"127.0.0.1:{port}", r.stderr)
        self.assertLess(took, 60, "bounded retries must end in seconds")

    def test_configuration_errors_exit_2_with_file_and_line(self):
        base = dict(aws_access_key="k", aws_secret_key="s", local_dir=self.tree,
                    bucket_name="bucket", endpoint=MOTO.endpoint)
        before = len(MOTO.requests())
        cases = [
            (dict(base, sync_intervall="5m"), 6, "sync_intervall", "sync_interval"),
            (dict(base, sync_interval="5 minutes"), 6, "sync_interval", "duration"),
            (dict(base, local_dir=os.path.join(self.tmp, "missing")), 3, "local_dir", "missing"),
            (dict(base, concurrency="lots"), 6, "concurrency", None),
            (dict(base, bucket_name="Bad_Bucket"), 4, "bucket_name", None),
        ]
        for keys, line, key, hint in cases:
            with self.subTest(key=key):
                write_config(self.conf, **keys)
                r = self.syncd("--once")
                self.assertExit(r, 2)
                self.assertIn(f"{self.conf}:{line}", r.stderr)
                self.assertIn(key, r.stderr)
                if hint:
                    self.assertIn(hint, r.stderr)
                self.assertNotIn("= s\n", r.stderr)
        self.assertEqual(len(MOTO.requests()), before, "a bad config must touch nothing")

    def test_check_config_redacts_secrets(self):
        write_config(self.conf, aws_access_key="AKIDEXAMPLE", aws_secret_key="very-secret-value",
                     aws_session_token="session-token-value", local_dir=self.tree,
                     bucket_name="bucket", endpoint=MOTO.endpoint, sync_interval="1h30m")
        r = self.syncd("--check-config")
        self.assertExit(r, 0)
        out = r.stdout + r.stderr
        self.assertNotIn("very-secret-value", out)
        self.assertNotIn("session-token-value", out)
        self.assertIn("bucket_name = bucket", out)
        self.assertIn("1h30m", out)

    def test_credentials_from_environment(self):
        bucket = MOTO.make_bucket(self.bucket_name())
        write_tree(self.tree, {"env.txt": "e"})
        write_config(self.conf, local_dir=self.tree, bucket_name=bucket, endpoint=MOTO.endpoint)
        r = self.syncd("--once", env_extra={"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"})
        self.assertExit(r, 0)
        self.assertEqual(get_bytes(MOTO.client(), bucket, "env.txt"), b"e")
        r = self.syncd("--once")
        self.assertExit(r, 2)
        self.assertIn("credentials", r.stderr.lower())

    def test_credentials_from_a_shared_credentials_profile(self):
        moto = Moto(self.tmp, auth=True)  # checks signatures: the profile's secret must be used
        try:
            bucket = moto.make_bucket(self.bucket_name())
            write_tree(self.tree, {"p.txt": "profile"})
            home = os.path.join(self.tmp, "home")
            os.makedirs(os.path.join(home, ".aws"))
            with open(os.path.join(home, ".aws", "credentials"), "w") as f:
                f.write(f"[default]\naws_access_key_id = {moto.key}\naws_secret_access_key = wrong\n\n"
                        f"[lab]\naws_access_key_id = {moto.key}\naws_secret_access_key = {moto.secret}\n")
            write_config(self.conf, local_dir=self.tree, bucket_name=bucket, endpoint=moto.endpoint)
            env = {"HOME": home, "AWS_PROFILE": "lab"}
            r = self.syncd("--check-config", env_extra=env)
            self.assertIn(f"credentials_from = {home}/.aws/credentials [lab]", r.stdout)
            self.assertNotIn(moto.secret, r.stdout + r.stderr)
            r = self.syncd("--once", env_extra=env)
            self.assertExit(r, 0)
            self.assertEqual(get_bytes(moto.client(), bucket, "p.txt"), b"profile")
            r = self.syncd("--once", env_extra={"HOME": home})  # [default] has a wrong secret
            self.assertExit(r, 3)
            self.assertIn("SignatureDoesNotMatch", r.stderr)
        finally:
            moto.stop()

    def test_symlinks_and_fifos_are_skipped_and_do_not_block_markers(self):
        bucket = MOTO.make_bucket(self.bucket_name())
        write_tree(self.tree, {"d/real.txt": "real"})
        os.symlink("real.txt", os.path.join(self.tree, "d", "link.txt"))
        os.symlink(self.tmp, os.path.join(self.tree, "d", "dirlink"))
        os.mkfifo(os.path.join(self.tree, "d", "pipe"))  # opening it would block the cycle
        self.configure(MOTO, bucket)
        r = self.syncd("--once", timeout=60)
        self.assertExit(r, 0)
        keys = set(all_objects(MOTO.client(), bucket))
        self.assertEqual(keys, {"d/real.txt", "d/syncd.txt", "syncd.txt"})
        self.assertIn("link.txt", r.stderr)
        self.assertIn("pipe", r.stderr)

    def test_name_that_is_not_utf8_is_an_error_for_that_file(self):
        bucket = MOTO.make_bucket(self.bucket_name())
        write_tree(self.tree, {"ok/a.txt": "a", "bad/fine.txt": "f"})
        with open(os.path.join(os.fsencode(self.tree), b"bad", b"caf\xe9.txt"), "wb") as f:
            f.write(b"latin-1 name")
        self.configure(MOTO, bucket)
        r = self.syncd("--once")
        self.assertExit(r, 1)
        self.assertIn("UTF-8", r.stderr)
        keys = set(all_objects(MOTO.client(), bucket))
        self.assertEqual(keys, {"ok/a.txt", "ok/syncd.txt", "bad/fine.txt"})

    def test_size_conflict_is_reported_not_overwritten(self):
        bucket = MOTO.make_bucket(self.bucket_name())
        s3 = MOTO.client()
        s3.put_object(Bucket=bucket, Key="p/data.txt", Body=b"the old, longer content")
        write_tree(self.tree, {"data.txt": "new"})
        self.configure(MOTO, bucket, prefix="p")
        r = self.syncd("--once")
        self.assertExit(r, 1)
        self.assertIn("conflict", r.stderr.lower())
        self.assertIn("data.txt", r.stderr)
        self.assertEqual(get_bytes(s3, bucket, "p/data.txt"), b"the old, longer content")
        self.assertNotIn("p/syncd.txt", all_objects(s3, bucket))

        self.configure(MOTO, bucket, prefix="p", overwrite_changed=True)
        r = self.syncd("--once")
        self.assertExit(r, 0)
        self.assertEqual(get_bytes(s3, bucket, "p/data.txt"), b"new")
        self.assertIn("p/syncd.txt", all_objects(s3, bucket))

    def test_same_size_object_counts_as_verified(self):
        bucket = MOTO.make_bucket(self.bucket_name())
        s3 = MOTO.client()
        s3.put_object(Bucket=bucket, Key="same.txt", Body=b"abc")
        write_tree(self.tree, {"same.txt": "xyz"})
        self.configure(MOTO, bucket)
        before = len(MOTO.requests(bucket))
        r = self.syncd("--once")
        self.assertExit(r, 0)
        puts = [q for q in MOTO.requests(bucket)[before:] if q.method == "PUT"]
        self.assertEqual([q.key_path for q in puts], [f"/{bucket}/syncd.txt"])

    def test_version_and_help(self):
        r = self.syncd("--version")
        self.assertExit(r, 0)
        self.assertRegex(r.stdout, r"syncd \d+\.\d+\.\d+")
        r = self.syncd("--help")
        self.assertExit(r, 0)
        for opt in ("--once", "--dry-run", "--check-config", "--log-format"):
            self.assertIn(opt, r.stdout)
        r = self.syncd("--no-such-option")
        self.assertExit(r, 2)


if __name__ == "__main__":
    unittest.main()
