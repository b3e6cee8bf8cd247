"""Issue 17, part 1: no verification without evidence. A PutObject answer whose ETag is missing or
not an MD5 proves nothing about the stored bytes, unless an SSE-KMS/SSE-C header explains it; such
a file is not verified, its directory and ancestors stay unmarked, and it is uploaded again."""
import glob
import hashlib
import json
import os
import shutil
import tempfile
import urllib.parse

from harness import RGW, FaultProxy, S3rver, TempDirTest, get_bytes, local_dirs, module_moto, write_tree

FILES = {
    "run1/lane1/a.fastq": "ACGT" * 100,
    "run1/lane1/b.fastq": "TTGA" * 50,
    "run1/lane2/c.fastq": "GGCC" * 70,
    "run2/d.fastq": "AAAA",
}
KEY = "run1/lane1/b.fastq"
# The directories that hold KEY: none of them may be marked while KEY is unverified.
HOLDERS = {"run1/lane1", "run1", ""}
OTHER_HEX = "a0b1b2e3fd0c5c2eb75d1a3cb1f1ab4a"  # 32 hex digits, not b.fastq's MD5


def setUpModule():
    global MOTO
    MOTO = module_moto("evidence")


class EvidenceBase(TempDirTest):
    """Views shared by the tests below (no tests of its own)."""

    def markers(self, bucket):
        """{directory: parsed marker JSON}, read with boto3."""
        s3 = MOTO.client()
        out = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for o in page.get("Contents", []):
                k = o["Key"]
                if k == "syncd.txt" or k.endswith("/syncd.txt"):
                    out[k[:-len("syncd.txt")].rstrip("/")] = json.loads(get_bytes(s3, bucket, k))
        return out

    def suspects(self):
        out = set()
        for p in glob.glob(os.path.join(self.state, "*.markers.json")):
            with open(p) as f:
                out |= set(json.load(f).get("suspect", []))
        return out

    def puts_of(self, proxy, since, key):
        return [q for q in proxy.requests()[since:] if q.method == "PUT" and q.key_path.endswith("/" + key)]



class EvidenceTest(EvidenceBase):
    def check_unverified_then_recovered(self, etag, extra=None, words=()):
        """With KEY's PutObject answer rewritten to (etag, extra): exit 1, KEY reported, no marker
        for KEY's directory or its ancestors, KEY suspect. Then without the rule: KEY is uploaded
        again and every directory is marked."""
        bucket = MOTO.make_bucket(self.bucket_name())
        write_tree(self.tree, FILES)
        proxy = FaultProxy(MOTO)
        self.addCleanup(proxy.stop)
        proxy.etag_answers = {KEY: (etag, extra)}
        self.configure(proxy.endpoint, bucket)
        r = self.syncd("--once")
        self.assertExit(r, 1)
        self.assertIn(KEY, r.stderr)
        for w in words:
            self.assertIn(w, r.stderr)
        marks = set(self.markers(bucket))
        self.assertFalse(marks & HOLDERS, marks)
        self.assertEqual(marks, {"run1/lane2", "run2"})
        self.assertIn(KEY, self.suspects())

        proxy.etag_answers = {}
        n = len(proxy.requests())
        r = self.syncd("--once")
        self.assertExit(r, 0)
        self.assertEqual(len(self.puts_of(proxy, n, KEY)), 1, "the unverified file is uploaded again")
        self.assertEqual(set(self.markers(bucket)), set(local_dirs(self.tree)))
        self.assertNotIn(KEY, self.suspects())
        self.assertEqual(get_bytes(MOTO.client(), bucket, KEY), FILES[KEY].encode())

    def test_missing_etag_is_no_evidence(self):
        self.check_unverified_then_recovered(None, words=("returned no ETag",))

    def test_etag_of_31_hex_digits_is_no_evidence(self):
        bad = OTHER_HEX[:31]
        self.check_unverified_then_recovered(f'"{bad}"', words=(bad, "is not an MD5"))

    def test_sha1_etag_is_no_evidence(self):
        bad = "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"
        self.check_unverified_then_recovered(f'"{bad}"', words=(bad, "is not an MD5"))

    def test_32_characters_that_are_not_hex_are_no_evidence(self):
        bad = "z" * 32
        self.check_unverified_then_recovered(f'"{bad}"', words=(bad, "is not an MD5"))

    def test_sse_header_explains_a_non_md5_etag(self):
        # AWS gives SSE-KMS, DSSE-KMS and SSE-C objects ETags that are not MD5s and says so in the
        # answer; then the server's Content-MD5 check is the evidence and the file counts as verified.
        for name, extra in [("kms", {"x-amz-server-side-encryption": "aws:kms"}),
                            ("dsse", {"x-amz-server-side-encryption": "aws:kms:dsse"}),
                            ("sse-c", {"x-amz-server-side-encryption-customer-algorithm": "AES256"})]:
            with self.subTest(name):
                bucket = MOTO.make_bucket(self.bucket_name())
                write_tree(self.tree, FILES)
                proxy = FaultProxy(MOTO)
                self.addCleanup(proxy.stop)
                proxy.etag_answers = {KEY: ('"86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"', extra)}
                self.configure(proxy.endpoint, bucket)
                self.assertExit(self.syncd("--once"), 0)
                self.assertEqual(set(self.markers(bucket)), set(local_dirs(self.tree)))
                self.assertEqual(self.suspects(), set())

    def test_sse_s3_header_does_not_explain_a_non_md5_etag(self):
        # SSE-S3 (AES256) objects keep MD5 ETags: the header is no excuse.
        self.check_unverified_then_recovered('"86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"',
                                             {"x-amz-server-side-encryption": "AES256"},
                                             words=("is not an MD5",))

    def test_upper_case_md5_etag_is_evidence(self):
        bucket = MOTO.make_bucket(self.bucket_name())
        write_tree(self.tree, FILES)
        proxy = FaultProxy(MOTO)
        self.addCleanup(proxy.stop)
        md5 = hashlib.md5(FILES[KEY].encode()).hexdigest().upper()
        proxy.etag_answers = {KEY: (f'"{md5}"', None)}
        self.configure(proxy.endpoint, bucket)
        self.assertExit(self.syncd("--once"), 0)
        self.assertEqual(set(self.markers(bucket)), set(local_dirs(self.tree)))


BIG = "big/run/big.bin"
PART = 5 << 20


def multipart_etag(data, part_size=PART):
    parts = [data[i:i + part_size] for i in range(0, len(data), part_size)]
    return hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + f"-{len(parts)}"


class MultipartEvidenceTest(EvidenceBase):
    """The same rule for a multipart completion: its ETag must be <32 hex>-<N>, N the part count,
    or, when the answer has none (RGW 16), the listed ETag must be."""

    def setUp(self):
        super().setUp()
        self.data = os.urandom(11 << 20)  # 3 parts of 5 MiB
        self.bucket = MOTO.make_bucket(self.bucket_name())
        write_tree(self.tree, {BIG: self.data, "small/a.txt": "a"})
        self.proxy = FaultProxy(MOTO)
        self.addCleanup(self.proxy.stop)
        self.configure(self.proxy.endpoint, self.bucket, multipart_threshold="5MiB", part_size="5MiB")

    def part_puts(self, since):
        return [q for q in self.proxy.requests()[since:] if q.method == "PUT" and "partNumber=" in q.path]

    def check_refused_then_recovered(self, etag, words):
        self.proxy.completion_etags = {BIG: etag}
        r = self.syncd("--once")
        self.assertExit(r, 1)
        self.assertIn(BIG, r.stderr)
        for w in words:
            self.assertIn(w, r.stderr)
        self.assertEqual(set(self.markers(self.bucket)), {"small"})
        self.assertIn(BIG, self.suspects())

        self.proxy.completion_etags = {}
        n = len(self.proxy.requests())
        self.assertExit(self.syncd("--once"), 0)
        self.assertEqual(len(self.part_puts(n)), 3, "uploaded again")
        self.assertEqual(set(self.markers(self.bucket)), set(local_dirs(self.tree)))
        self.assertNotIn(BIG, self.suspects())

    def test_completion_without_etag_is_verified_from_the_listing(self):
        # RGW 16 answers <ETag></ETag>; an answer without the element at all is read the same way.
        for name, etag in [("empty element", ""), ("no element", None)]:
            with self.subTest(name):
                bucket = MOTO.make_bucket(self.bucket_name())
                self.configure(self.proxy.endpoint, bucket, multipart_threshold="5MiB", part_size="5MiB")
                self.proxy.completion_etags = {BIG: etag}
                n = len(self.proxy.requests())
                self.assertExit(self.syncd("--once"), 0)
                log = self.proxy.requests()[n:]
                done = max(i for i, q in enumerate(log) if q.method == "POST" and "uploadId=" in q.path)
                self.assertTrue([q for q in log[done:] if q.method == "GET" and "list-type=2" in q.path
                                 and "prefix=big%2Frun%2Fbig.bin" in q.path], log[done:])
                self.assertEqual(set(self.markers(bucket)), set(local_dirs(self.tree)))
                self.assertEqual(MOTO.client().head_object(Bucket=bucket, Key=BIG)["ETag"].strip('"'),
                                 multipart_etag(self.data))
                self.assertEqual(self.suspects(), set())

    def test_completion_etag_of_the_whole_files_md5_is_verified_by_reading_the_file(self):
        # s3rver and some gateways answer a completion with the MD5 of the whole object: it is
        # compared with the whole file's MD5, read once more, and then it is evidence.
        whole = hashlib.md5(self.data).hexdigest()
        self.proxy.completion_etags = {BIG: f'"{whole}"'}
        r = self.syncd("--once", "--log-level=debug")
        self.assertExit(r, 0)
        self.assertIn("with a plain MD5; reading the file once more", r.stderr)
        self.assertEqual(set(self.markers(self.bucket)), set(local_dirs(self.tree)))
        self.assertEqual(self.suspects(), set())
        n = len(self.proxy.requests())
        self.assertExit(self.syncd("--once"), 0)
        self.assertEqual(self.part_puts(n), [], "verified: not uploaded again")

    def test_completion_etag_of_other_bytes_md5_is_a_mismatch(self):
        # A plain MD5 that is not the whole file's: the MD5 of the part MD5s (the multipart ETag
        # without its part count) is such a value.
        md5_of_md5s = multipart_etag(self.data).split("-")[0]
        whole = hashlib.md5(self.data).hexdigest()
        self.check_refused_then_recovered(f'"{md5_of_md5s}"',
                                          (md5_of_md5s, whole, "differs from the local MD5", "of the whole file"))

    def test_completion_etag_of_another_part_count_is_a_mismatch(self):
        other = multipart_etag(self.data).split("-")[0] + "-4"
        self.check_refused_then_recovered(f'"{other}"', (other, "differs from the local multipart ETag"))


class LostCompletionAnswerTest(EvidenceBase):
    """A completion whose answer is lost is retried, finds NoSuchUpload, and the listed object is
    then checked like the answer would have been."""

    def test_listed_whole_object_md5_after_a_lost_answer_is_checked_against_the_file(self):
        # s3rver lists a multipart object with the MD5 of the whole object. Before, anything but
        # the expected multipart ETag in the listing failed as NoSuchUpload, which is not
        # recorded suspect: the next cycle would take the object, of the right size, as present.
        bucket = self.bucket_name()
        srv = S3rver(self.tmp, buckets=[bucket])
        self.addCleanup(srv.stop)
        proxy = FaultProxy(srv)
        self.addCleanup(proxy.stop)
        data = os.urandom(11 << 20)
        write_tree(self.tree, {BIG: data, "small/a.txt": "a"})
        self.configure(proxy.endpoint, bucket, aws_access_key=srv.key, aws_secret_key=srv.secret,
                       multipart_threshold="5MiB", part_size="5MiB")
        proxy.lose_completion_answers = {BIG: 1}
        r = self.syncd("--once")
        self.assertExit(r, 0)
        completes = [q for q in proxy.requests() if q.method == "POST" and "uploadId=" in q.path]
        self.assertEqual([q.status for q in completes], [200, 404], completes)  # lost, then NoSuchUpload
        s3 = srv.client()
        self.assertEqual(get_bytes(s3, bucket, BIG), data)
        self.assertEqual(s3.head_object(Bucket=bucket, Key=BIG)["ETag"].strip('"'), hashlib.md5(data).hexdigest())
        self.assertIn("syncd.txt", [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])])


class RGWCompletionTest(TempDirTest):
    """Ceph RGW 16 completes a multipart upload with <ETag></ETag>: the listed ETag, of the real
    multipart form, is the evidence, and it passes the same check."""

    @classmethod
    def setUpClass(cls):
        cls.tmpdir = tempfile.mkdtemp(prefix="syncd-evidence-rgw-")
        cls.rgw = RGW(cls.tmpdir)

    @classmethod
    def tearDownClass(cls):
        cls.rgw.stop()
        if not os.environ.get("KEEP_TEST_DIRS"):
            shutil.rmtree(cls.tmpdir, ignore_errors=True)

    def test_completion_without_etag_is_confirmed_from_the_listing(self):
        bucket = self.rgw.make_bucket(self.bucket_name())
        data = os.urandom(12 << 20)
        write_tree(self.tree, {BIG: data, "small/a.txt": "a"})
        proxy = FaultProxy(self.rgw)  # only to watch the requests in order
        self.addCleanup(proxy.stop)
        self.configure(proxy.endpoint, bucket, aws_access_key=self.rgw.key, aws_secret_key=self.rgw.secret,
                       multipart_threshold="5MiB", part_size="5MiB")
        self.assertExit(self.syncd("--once"), 0)
        log = proxy.requests()
        done = max(i for i, q in enumerate(log) if q.method == "POST" and "uploadId=" in q.path)
        self.assertEqual((log[done + 1].method, urllib.parse.unquote(log[done + 1].path.split("prefix=")[-1])),
                         ("GET", BIG), log[done:])
        s3 = self.rgw.client()
        self.assertEqual(s3.head_object(Bucket=bucket, Key=BIG)["ETag"].strip('"'), multipart_etag(data))
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
        self.assertTrue({"syncd.txt", "big/syncd.txt", "big/run/syncd.txt", "small/syncd.txt"} <= keys, keys)
