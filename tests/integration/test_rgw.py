"""Signing and integrity against a server that checks both: Ceph's RADOS Gateway.

moto verifies SigV4 only with an IAM key and then gets awkward keys wrong, and neither moto nor
s3rver checks Content-MD5; RGW does both, so what these tests see is what S3 would do.
"""
import hashlib
import json
import os
import urllib.parse

from harness import RGW, FaultProxy, TempDirTest, all_objects, get_bytes, marker_key, quiet_proxy, write_tree

# Keys whose signing goes wrong first: reserved and unreserved characters, '+' (a space to some
# decoders), UTF-8, characters some encoders leave alone ('()*!), a literal "%41".
AWKWARD = [
    "space name.txt", "plus+sign.txt", "percent%41.txt", "tilde~file.txt", "hash#tag.txt",
    "question?mark.txt", "quote'paren(star)*!.txt", "naïve-ünïcode.txt", "emoji-😀.txt",
    "equals=and&amp.txt", "dir with space/inner+plus/deep %2F.txt",
]


def setUpModule():
    global SERVER
    import tempfile
    SERVER = RGW(tempfile.mkdtemp(prefix="syncd-rgw-"))


def tearDownModule():
    SERVER.stop()


class AgainstRGW(TempDirTest):
    def configure(self, endpoint, bucket, **extra):
        keys = dict(aws_access_key=SERVER.key, aws_secret_key=SERVER.secret)
        keys.update(extra)
        super().configure(endpoint, bucket, **keys)

    def new_bucket(self):
        return SERVER.make_bucket(self.bucket_name())

    def test_awkward_keys_are_signed_right_and_round_trip(self):
        bucket = self.new_bucket()
        files = {name: f"content of {name}\n" for name in AWKWARD}
        files["empty.bin"] = b""
        write_tree(self.tree, files)
        self.configure(SERVER.endpoint, bucket, prefix="in dir+/")
        r = self.syncd("--once")
        self.assertExit(r, 0)
        self.assertNotIn("SignatureDoesNotMatch", r.stderr)
        s3 = SERVER.client()
        for rel, data in files.items():
            want = data.encode() if isinstance(data, str) else data
            self.assertEqual(get_bytes(s3, bucket, "in dir+/" + rel), want, rel)
        self.assertIn(marker_key("in dir+/", ""), all_objects(s3, bucket))
        # Every request syncd sent was accepted: nothing answered 403.
        statuses = {(q.method, q.status) for q in SERVER.requests(bucket)}
        self.assertFalse([s for s in statuses if s[1] == 403], statuses)

    def test_wrong_secret_is_refused_and_nothing_is_written(self):
        bucket = self.new_bucket()
        write_tree(self.tree, {"a.txt": "a"})
        self.configure(SERVER.endpoint, bucket, aws_secret_key=SERVER.secret.replace("+", "-"))
        r = self.syncd("--once")
        self.assertExit(r, 3)
        self.assertIn("SignatureDoesNotMatch", r.stderr)
        self.assertEqual(all_objects(SERVER.client(), bucket), {})

    def test_body_corrupted_in_flight_is_rejected_by_the_server_and_not_marked(self):
        bucket = self.new_bucket()
        files = {"run/lane1/a.bin": os.urandom(3000), "run/lane1/b.bin": os.urandom(3000),
                 "run/lane2/c.bin": os.urandom(3000)}
        write_tree(self.tree, files)
        proxy = FaultProxy(SERVER)
        try:
            proxy.corrupt_keys = {"run/lane1/b.bin"}
            self.configure(proxy.endpoint, bucket)
            r = self.syncd("--once")
            self.assertExit(r, 1)
            self.assertIn("BadDigest", r.stderr)
            self.assertIn("run/lane1/b.bin", r.stderr)
            s3 = SERVER.client()
            objects = all_objects(s3, bucket)
            self.assertNotIn("run/lane1/b.bin", objects)  # the server stored nothing torn
            self.assertNotIn(marker_key("", "run/lane1"), objects)
            self.assertNotIn(marker_key("", "run"), objects)
            self.assertIn(marker_key("", "run/lane2"), objects)
            proxy.corrupt_keys = set()
            self.assertExit(self.syncd("--once"), 0)
            for rel, data in files.items():
                self.assertEqual(get_bytes(s3, bucket, rel), data, rel)
            self.assertIn(marker_key("", "run"), all_objects(s3, bucket))
        finally:
            proxy.stop()

    def test_multipart_upload_has_the_servers_real_multipart_etag(self):
        bucket = self.new_bucket()
        data = os.urandom(12 << 20)
        write_tree(self.tree, {"big.bin": data})
        self.configure(SERVER.endpoint, bucket, multipart_threshold="5MiB", part_size="5MiB")
        r = self.syncd("--once")
        self.assertExit(r, 0)
        s3 = SERVER.client()
        self.assertEqual(get_bytes(s3, bucket, "big.bin"), data)
        parts = [data[i:i + (5 << 20)] for i in range(0, len(data), 5 << 20)]
        want = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + f"-{len(parts)}"
        self.assertEqual(s3.head_object(Bucket=bucket, Key="big.bin")["ETag"].strip('"'), want)
        puts = [q for q in SERVER.requests(bucket) if q.method == "PUT" and "partNumber=" in q.path]
        self.assertEqual(len(puts), 3, puts)

    def test_part_changed_while_sent_is_refused_once_and_reported_as_a_local_change(self):
        # The first part is stalled 1 MiB into its body; meanwhile bytes further into it are
        # rewritten (new mtime). RGW checks Content-MD5 and refuses the part (BadDigest); syncd
        # must see that the file changed and not send the part again, and must store nothing.
        bucket = self.new_bucket()
        path = os.path.join(self.tree, "big.bin")
        write_tree(self.tree, {"big.bin": os.urandom(40 << 20)})
        proxy = quiet_proxy(SERVER)
        self.addCleanup(proxy.stop)
        proxy.hold_bodies["big.bin"] = 1 << 20
        # 32 MiB parts: far more of part 1 is still in the file than the socket buffers hold.
        self.configure(proxy.endpoint, bucket, multipart_threshold="32MiB", part_size="32MiB",
                       concurrency=1, part_concurrency=1)
        p = self.start("--once")
        self.assertTrue(proxy.held.wait(60), "the first part never reached the proxy")
        st = os.stat(path)
        with open(path, "r+b") as f:
            f.seek(24 << 20)
            f.write(os.urandom(4096))
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 5_000_000_000))
        proxy.release.set()
        self.assertEqual(p.wait(120), 1, self.stderr()[-3000:])
        self.assertIn("changed while it was read", self.stderr())
        part1 = [q for q in proxy.requests() if q.method == "PUT" and "partNumber=1&" in q.path + "&"]
        self.assertEqual([q.status for q in part1], [400], "part 1 should be sent once and refused")
        s3 = SERVER.client()
        self.assertNotIn("big.bin", all_objects(s3, bucket))
        self.assertEqual(s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []), [])
        # The next cycle uploads the file as it is now.
        self.assertExit(self.syncd("--once"), 0)
        with open(path, "rb") as f:
            self.assertEqual(get_bytes(s3, bucket, "big.bin"), f.read())

    def test_listing_cut_into_ranges_sees_every_object_once(self):
        # 3,000 files, one listing range per 500 (SYNCD_FILES_PER_LIST_RANGE; 20,000 by default)
        # -> 6 ranges listed at once, each from start-after its cut key. Objects syncd did not
        # write, before, between and after the local keys, fall in some range too.
        bucket = self.new_bucket()
        files = {f"run{d:02d}/f{i:03d}.txt": f"{d}-{i}" for d in range(30) for i in range(100)}
        write_tree(self.tree, files)
        s3 = SERVER.client()
        extras = ["p/0-before", "p/run05/f050.txt-extra", "p/zzz-after"]
        for k in extras:
            s3.put_object(Bucket=bucket, Key=k, Body=b"not syncd's")
        self.configure(SERVER.endpoint, bucket, prefix="p/")
        env = {"SYNCD_FILES_PER_LIST_RANGE": "500"}

        def cycle():
            r = self.syncd("--once", "--log-format=json", env_extra=env)
            ends = [j for j in map(json.loads, r.stderr.splitlines()) if j["event"] == "cycle_end"]
            return r, ends[-1]

        def cuts(since):
            lists = [q for q in SERVER.requests(bucket)[since:] if q.method == "GET" and "list-type=2" in q.path]
            after = [urllib.parse.parse_qs(q.path.split("?", 1)[1]).get("start-after", [None])[0] for q in lists]
            return lists, sorted(a for a in after if a)

        r, end = cycle()
        self.assertExit(r, 0)
        self.assertEqual(end["uploaded"], 3000)

        seen = len(SERVER.requests(bucket))
        r, end = cycle()
        self.assertExit(r, 0)
        self.assertEqual((end["uploaded"], end["verified"]), (0, 3000))
        lists, after = cuts(seen)
        self.assertEqual(len(after), 5, after)  # 6 ranges: the first has no start-after
        # 3,034 objects fit in 4 pages; every range stops on its first page, which runs past its end.
        self.assertEqual(end["list_requests"], 6)
        self.assertEqual(len(lists), 6)

        # The cut keys themselves, and the next file's key after each, belong to exactly one
        # range: deleted from the bucket, each is uploaded again, and nothing else is.
        keys = sorted(all_objects(s3, bucket))
        gone = set()
        for cut in after:
            gone |= {cut, next(k for k in keys[keys.index(cut) + 1:] if k[len("p/"):] in files)}
        for k in gone:
            s3.delete_object(Bucket=bucket, Key=k)
        r, end = cycle()
        self.assertExit(r, 0)
        self.assertEqual(end["uploaded"], len(gone))
        again = all_objects(s3, bucket)
        for k in gone:
            self.assertEqual(get_bytes(s3, bucket, k), files[k[len("p/"):]].encode(), k)
        for k in extras:
            self.assertIn(k, again)
