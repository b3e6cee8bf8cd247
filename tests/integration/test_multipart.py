"""Issue 5: large files go up as parallel multipart uploads with bounded memory, and nothing is
left behind: changed files, failures and shutdowns abort, an interrupted run is resumed.

Objects are read back with boto3 and incomplete uploads listed with boto3 on moto_server, which
implements ListMultipartUploads and ListParts; moto's request log shows what syncd sent."""
import hashlib
import os
import re
import signal
import subprocess
import threading
import time
import unittest

from harness import (SYNCD, module_moto, TempDirTest, clean_env, quiet_proxy, wait_for)

MiB = 1 << 20
PART = re.compile(r"[?&]partNumber=(\d+)")
TIME = "/usr/bin/time"

# The memory formula of docs/multipart.md: peak RSS <= base + bytes held from the budget +
# per-connection buffers, where the bytes held are at most min(budget, part workers x 256 KiB)
# while large files upload (each part worker's hashing buffer; parts are sent from the file), and
# part workers = min(part_concurrency, concurrency) across all files.
BASE_RSS = 32 * MiB
BUDGET = 256 * MiB
PER_CONNECTION = 1 * MiB
HASH_BUFFER = 256 * 1024


def documented_peak(concurrency, part_concurrency, part_size):
    workers = min(concurrency, part_concurrency)
    return BASE_RSS + min(BUDGET, workers * min(part_size, HASH_BUFFER)) + concurrency * PER_CONNECTION


def most_at_once(requests):
    """The largest number of requests whose [start, end] spans overlap (FaultProxy times)."""
    edges = sorted([(q.start, 1) for q in requests] + [(q.end, -1) for q in requests],
                   key=lambda e: (e[0], e[1]))
    now = most = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


def setUpModule():
    global MOTO
    MOTO = module_moto("multipart")


def write_random(path, size, chunk=8 * MiB):
    """Random content, written in chunks; returns its MD5 (hex)."""
    md5 = hashlib.md5()
    with open(path, "wb") as f:
        left = size
        while left:
            data = os.urandom(min(chunk, left))
            md5.update(data)
            f.write(data)
            left -= len(data)
    return md5.hexdigest()


def file_md5(path):
    md5 = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(8 * MiB), b""):
            md5.update(block)
    return md5.hexdigest()


def expected_etag(path, part_size):
    """The multipart ETag S3 computes: MD5 of the part MD5s, '-', the number of parts."""
    digests = []
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(part_size), b""):
            digests.append(hashlib.md5(block).digest())
    return f"{hashlib.md5(b''.join(digests)).hexdigest()}-{len(digests)}"


def object_md5(client, bucket, key):
    """MD5 of the object as read back, streamed (objects here are large)."""
    body = client.get_object(Bucket=bucket, Key=key)["Body"]
    md5 = hashlib.md5()
    for block in iter(lambda: body.read(8 * MiB), b""):
        md5.update(block)
    return md5.hexdigest()


def moto_log():
    """Moto's request log as it is now (no waiting for it to settle)."""
    with open(MOTO.log_path, errors="replace") as f:
        return [r for r in map(MOTO._parse, f) if r]


def part_puts(requests, bucket, key):
    """Part numbers of successful UploadPart requests for bucket/key."""
    out = []
    for r in requests:
        m = PART.search(r.path)
        if r.method == "PUT" and m and r.status == 200 and r.key_path == f"/{bucket}/{key}":
            out.append(int(m.group(1)))
    return out


def aborted(requests):
    """Upload ids of the AbortMultipartUpload requests among requests."""
    return {q.path.split("uploadId=")[1] for q in requests if q.method == "DELETE" and "uploadId=" in q.path}


class Multipart(TempDirTest):
    def setUp(self):
        super().setUp()
        self.s3 = MOTO.client()
        self.bucket = MOTO.make_bucket(self.bucket_name())
        self.addCleanup(self.empty_bucket)

    def empty_bucket(self):
        # moto keeps everything in memory: give it back after the large tests.
        for u in self.s3.list_multipart_uploads(Bucket=self.bucket).get("Uploads", []):
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=u["Key"], UploadId=u["UploadId"])
        for o in self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", []):
            self.s3.delete_object(Bucket=self.bucket, Key=o["Key"])

    def configure(self, endpoint=None, **extra):
        """The harness's configure for this test's bucket, with small multipart sizes."""
        keys = dict(multipart_threshold="8MiB", part_size="8MiB")
        keys.update(extra)
        super().configure(endpoint or MOTO.endpoint, self.bucket, **keys)

    def sync_once(self):
        """One --once run that must succeed: its result, and the requests moto saw meanwhile."""
        before = len(MOTO.requests())
        r = self.syncd("--once")
        self.assertExit(r, 0)
        return r, MOTO.requests()[before:]

    def incomplete_uploads(self):
        return self.s3.list_multipart_uploads(Bucket=self.bucket).get("Uploads", [])

    def assertUploaded(self, key, path, part_size):
        head = self.s3.head_object(Bucket=self.bucket, Key=key)
        self.assertEqual(head["ContentLength"], os.path.getsize(path))
        self.assertEqual(head["ETag"].strip('"'), expected_etag(path, part_size))
        self.assertEqual(object_md5(self.s3, self.bucket, key), file_md5(path))

    # ---------------------------------------------------------------------------------------

    def test_100mib_file_uploads_in_parts(self):
        path = os.path.join(self.tree, "run1", "big.bin")
        os.makedirs(os.path.dirname(path))
        write_random(path, 100 * MiB)
        self.configure()
        r, log = self.sync_once()
        self.assertUploaded("run1/big.bin", path, 8 * MiB)
        head = self.s3.head_object(Bucket=self.bucket, Key="run1/big.bin")
        self.assertTrue(head["ETag"].strip('"').endswith("-13"), head["ETag"])
        self.assertEqual(head["Metadata"].get("mtime", "")[:10], str(int(os.stat(path).st_mtime)))
        parts = part_puts(log, self.bucket, "run1/big.bin")
        self.assertEqual(sorted(parts), list(range(1, 14)))
        self.assertEqual(self.incomplete_uploads(), [])
        self.assertIn("in 13 parts", r.stderr)
        # Markers treat it like any other file; the next cycle verifies it by size.
        self.assertIn("run1/syncd.txt", [o["Key"] for o in self.s3.list_objects_v2(
            Bucket=self.bucket).get("Contents", [])])
        _, log = self.sync_once()
        self.assertEqual([q for q in log if q.method != "GET" and q.key_path.startswith(f"/{self.bucket}")], [])

    def test_1gib_file_peak_rss_within_budget(self):
        if not os.access(TIME, os.X_OK):
            self.fail(f"{TIME} is missing: install the Debian package 'time' (apt-get install time); "
                      "this test measures syncd's peak RSS with '/usr/bin/time -v'")
        path = os.path.join(self.tree, "huge.bin")
        write_random(path, 1024 * MiB)
        self.configure(part_size="8MiB", concurrency=8, part_concurrency=8)
        r = subprocess.run([TIME, "-v", SYNCD, "--once", self.conf], capture_output=True, text=True,
                           errors="replace", env=clean_env(self.state), timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr[-4000:])
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
        self.assertIsNotNone(m, r.stderr[-2000:])
        peak = int(m.group(1)) * 1024
        rate = re.search(r"cycle finished in ([0-9.]+) s: .*; ([0-9.]+ [KMG]?i?B)/s", r.stderr)
        print(f"\n    1 GiB, 8 MiB parts, concurrency 8: peak RSS {peak / MiB:.1f} MiB "
              f"(documented bound {documented_peak(8, 8, 8 * MiB) / MiB:.0f} MiB); "
              f"{rate.group(1) if rate else '?'} s, {rate.group(2) if rate else '?'}/s", flush=True)
        self.assertLessEqual(peak, documented_peak(8, 8, 8 * MiB))
        self.assertUploaded("huge.bin", path, 8 * MiB)
        self.assertTrue(self.s3.head_object(Bucket=self.bucket, Key="huge.bin")["ETag"]
                        .strip('"').endswith("-128"))
        self.assertEqual(self.incomplete_uploads(), [])

    def test_parts_in_flight_across_files_stay_within_part_concurrency(self):
        # Three large files go up at once (concurrency 16 lets all three start), but only
        # part_concurrency parts may be on the wire together, whichever files they belong to.
        paths = {}
        for name in ("a.bin", "b.bin", "c.bin"):
            paths[name] = os.path.join(self.tree, name)
            write_random(paths[name], 25 * MiB)
        proxy = quiet_proxy(MOTO)
        self.addCleanup(proxy.stop)
        proxy.delay_puts = 0.3  # parts overlap whenever syncd lets them
        self.configure(endpoint=proxy.endpoint, multipart_threshold="5MiB", part_size="5MiB",
                       concurrency=16, part_concurrency=3)
        r = self.syncd("--once")
        self.assertExit(r, 0)
        parts = [q for q in proxy.requests() if q.method == "PUT" and PART.search(q.path)]
        self.assertEqual(len(parts), 15)
        self.assertEqual(most_at_once(parts), 3)
        # Files share the slots: every file's parts went up, each stored whole.
        for name, path in paths.items():
            self.assertEqual(sorted(part_puts(parts, self.bucket, name)), [1, 2, 3, 4, 5])
            self.assertUploaded(name, path, 5 * MiB)
        self.assertEqual(self.incomplete_uploads(), [])
        # The file that started first gets the slots first: one upload is completed while
        # another file still has parts to send (taking turns part by part, all three would send
        # their last parts together and complete together at the end).
        log = proxy.requests()
        completions = [q.start for q in log if q.method == "POST" and "uploadId=" in q.path]
        last_parts = [max(q.start for q in parts if q.path.split("?")[0].endswith("/" + name))
                      for name in paths]
        self.assertLess(min(completions), max(last_parts))

    def test_file_appended_while_uploading_is_aborted_then_uploaded_next_cycle(self):
        path = os.path.join(self.tree, "growing.bin")
        write_random(path, 40 * MiB)
        proxy = quiet_proxy(MOTO)
        self.addCleanup(proxy.stop)
        proxy.delay_puts = 0.2  # parts go slowly, so the file grows in the middle of the upload
        self.configure(endpoint=proxy.endpoint, multipart_threshold="5MiB", part_size="5MiB",
                       concurrency=2)

        def append_after_first_part():
            if wait_for(lambda: part_puts(proxy.requests(), self.bucket, "growing.bin"), 30):
                with open(path, "ab") as f:
                    f.write(os.urandom(MiB))
        t = threading.Thread(target=append_after_first_part)
        t.start()
        r = self.syncd("--once")
        t.join()
        self.assertExit(r, 1)
        self.assertIn("changed while it was read", r.stderr)
        sent = part_puts(proxy.requests(), self.bucket, "growing.bin")
        self.assertGreaterEqual(len(sent), 1)
        self.assertLess(len(sent), 8, "the change was noticed only after every part was sent")
        self.assertTrue(aborted(proxy.requests()), "no AbortMultipartUpload")
        self.assertNotIn("growing.bin", [o["Key"] for o in self.s3.list_objects_v2(
            Bucket=self.bucket).get("Contents", [])])
        self.assertEqual(self.incomplete_uploads(), [])

        proxy.delay_puts = 0
        self.assertExit(self.syncd("--once"), 0)
        self.assertUploaded("growing.bin", path, 5 * MiB)
        self.assertEqual(self.incomplete_uploads(), [])

    def stall_first_part(self, path, size):
        """A two-part upload of path (size bytes, 32 MiB parts, one worker) through a proxy that
        stops reading the first part 1 MiB in, so syncd is stalled mid-body (more than the socket
        buffers hold is still in the file). Returns the proxy and the thread running syncd."""
        write_random(path, size)
        proxy = quiet_proxy(MOTO)
        self.addCleanup(proxy.stop)
        proxy.hold_bodies[os.path.basename(path)] = MiB
        self.configure(endpoint=proxy.endpoint, multipart_threshold="32MiB", part_size="32MiB",
                       concurrency=1, part_concurrency=1)
        result = {}
        t = threading.Thread(target=lambda: result.setdefault("r", self.syncd("--once")))
        t.start()
        self.assertTrue(proxy.held.wait(60), "the first part never reached the proxy")
        return proxy, t, result

    def test_part_rewritten_after_hashing_is_refused_not_stored(self):
        # Same size, same mtime: only the bytes differ from what was hashed, so only the part's
        # checksum (Content-MD5 at the server, or the ETag check at syncd) can catch it.
        path = os.path.join(self.tree, "rewritten.bin")
        proxy, t, result = self.stall_first_part(path, 40 * MiB)
        st = os.stat(path)
        with open(path, "r+b") as f:
            f.write(os.urandom(40 * MiB))
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        proxy.release.set()
        t.join(120)
        r = result["r"]
        self.assertExit(r, 1)
        self.assertRegex(r.stderr, r"BadDigest|does not match what was sent")
        self.assertNotIn("rewritten.bin", [o["Key"] for o in self.s3.list_objects_v2(
            Bucket=self.bucket).get("Contents", [])])
        self.assertNotIn("syncd.txt", os.listdir(self.tree))
        self.assertEqual(self.incomplete_uploads(), [])
        # The next cycle, with nothing in the way, uploads the bytes the file holds now.
        self.assertExit(self.syncd("--once"), 0)
        self.assertUploaded("rewritten.bin", path, 32 * MiB)

    def test_file_truncated_while_a_part_is_sent_is_reported_changed(self):
        path = os.path.join(self.tree, "shrinking.bin")
        proxy, t, result = self.stall_first_part(path, 40 * MiB)
        os.truncate(path, 2 * MiB)
        proxy.release.set()
        t.join(120)
        r = result["r"]
        self.assertExit(r, 1)
        self.assertIn("changed while it was read", r.stderr)
        self.assertNotIn("shrinking.bin", [o["Key"] for o in self.s3.list_objects_v2(
            Bucket=self.bucket).get("Contents", [])])
        self.assertNotIn("syncd.txt", os.listdir(self.tree))
        self.assertEqual(self.incomplete_uploads(), [])
        self.assertExit(self.syncd("--once"), 0)
        self.assertEqual(object_md5(self.s3, self.bucket, "shrinking.bin"), file_md5(path))

    def test_kill_9_mid_upload_then_resume_sends_only_missing_parts(self):
        path = os.path.join(self.tree, "run7", "data.bin")
        os.makedirs(os.path.dirname(path))
        write_random(path, 200 * MiB)  # 25 parts of 8 MiB
        proxy = quiet_proxy(MOTO)
        self.addCleanup(proxy.stop)
        proxy.delay_puts = 0.3
        self.configure(endpoint=proxy.endpoint, concurrency=2)
        p = self.start("--once")
        got = wait_for(lambda: len(part_puts(moto_log(), self.bucket, "run7/data.bin")) >= 4, 60)
        self.assertTrue(got, "no part PUTs reached moto")
        p.send_signal(signal.SIGKILL)
        p.wait(10)
        time.sleep(1.0)  # parts the proxy was still holding reach moto

        uploads = self.incomplete_uploads()
        self.assertEqual(len(uploads), 1, uploads)
        upload_id = uploads[0]["UploadId"]
        present = {x["PartNumber"] for x in self.s3.list_parts(
            Bucket=self.bucket, Key="run7/data.bin", UploadId=upload_id).get("Parts", [])}
        self.assertTrue(4 <= len(present) < 25, present)

        proxy.delay_puts = 0
        r, second = self.sync_once()
        self.assertUploaded("run7/data.bin", path, 8 * MiB)
        self.assertEqual(self.incomplete_uploads(), [])
        resent = part_puts(second, self.bucket, "run7/data.bin")
        self.assertEqual(sorted(resent), sorted(set(range(1, 26)) - present),
                         "only the missing parts are sent again")
        self.assertFalse([q for q in second if q.method == "POST" and "uploads" in q.path],
                         "the interrupted upload is continued, not started anew")
        self.assertIn("resuming the interrupted multipart upload", r.stderr)
        self.assertIn(f"({len(present)} resumed)", r.stderr)

    def test_interrupted_upload_of_other_content_is_aborted_and_redone(self):
        path = os.path.join(self.tree, "file.bin")
        write_random(path, 20 * MiB)  # parts of 8, 8, 4 MiB
        key = "file.bin"
        # Left behind by "an earlier run": one upload whose part size does not fit the plan, one
        # that fits but holds other bytes in part 1.
        wrong_size = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=wrong_size, PartNumber=1,
                            Body=os.urandom(6 * MiB))
        other = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=other, PartNumber=1,
                            Body=os.urandom(8 * MiB))
        self.configure()
        r, log = self.sync_once()
        self.assertUploaded(key, path, 8 * MiB)
        self.assertEqual(self.incomplete_uploads(), [])
        self.assertEqual(aborted(log), {wrong_size, other})
        self.assertIn("differ from the file", r.stderr)

    def test_matching_interrupted_upload_is_continued_and_others_aborted(self):
        path = os.path.join(self.tree, "file.bin")
        write_random(path, 20 * MiB)  # parts of 8, 8, 4 MiB
        key = "file.bin"
        with open(path, "rb") as f:
            first = f.read(8 * MiB)
        ours = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=ours, PartNumber=1, Body=first)
        stray = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        self.configure()
        r, log = self.sync_once()
        self.assertUploaded(key, path, 8 * MiB)
        self.assertEqual(self.incomplete_uploads(), [])
        self.assertEqual(sorted(part_puts(log, self.bucket, key)), [2, 3])
        self.assertFalse([q for q in log if q.method == "POST" and "uploads" in q.path])
        self.assertEqual(aborted(log), {stray})
        self.assertIn("(1 resumed)", r.stderr)

    def test_sigterm_mid_upload_aborts_it_at_once(self):
        path = os.path.join(self.tree, "big.bin")
        write_random(path, 100 * MiB)
        proxy = quiet_proxy(MOTO)
        self.addCleanup(proxy.stop)
        proxy.delay_puts = 0.5  # a slow link: parts in flight take a while
        self.configure(endpoint=proxy.endpoint, concurrency=2)
        p = self.start("--once")
        self.assertTrue(wait_for(lambda: part_puts(proxy.requests(), self.bucket, "big.bin"), 60))
        time.sleep(0.2)  # the next parts are on their way
        signalled = time.monotonic()
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(30), 0, self.stderr()[-3000:])
        err = self.stderr()
        self.assertIn("aborted the multipart upload", err)
        self.assertIn("interrupted by shutdown", err)
        self.assertEqual(self.incomplete_uploads(), [])
        self.assertNotIn("big.bin", [o["Key"] for o in self.s3.list_objects_v2(
            Bucket=self.bucket).get("Contents", [])])
        log = proxy.requests()
        aborts = [q for q in log if q.method == "DELETE" and "uploadId=" in q.path]  # in order
        self.assertTrue(aborts, "no AbortMultipartUpload")
        # The abort does not wait for the parts in flight (nor for a free request slot).
        self.assertLess(aborts[0].end - signalled, 0.8)
        self.assertLess(len(part_puts(log, self.bucket, "big.bin")), 13)

    def test_sigterm_while_a_file_waits_for_a_part_slot_aborts_both_uploads(self):
        # Two large files start together, but part_concurrency 1 lets only one part at a time go
        # out: both uploads are created, one file's worker waits for the slot while the other's
        # part is sent. A shutdown aborts both.
        for name in ("a.bin", "b.bin"):
            write_random(os.path.join(self.tree, name), 40 * MiB)
        proxy = quiet_proxy(MOTO)
        self.addCleanup(proxy.stop)
        proxy.delay_puts = 0.5
        self.configure(endpoint=proxy.endpoint, concurrency=4, part_concurrency=1)

        def created():
            return [q for q in proxy.requests() if q.method == "POST" and re.search(r"[?&]uploads=?(&|$)", q.path)]
        p = self.start("--once")
        self.assertTrue(wait_for(lambda: len(created()) == 2 and [
            q for q in proxy.requests() if q.method == "PUT" and PART.search(q.path)], 60))
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(30), 0, self.stderr()[-3000:])
        self.assertIn("interrupted by shutdown", self.stderr())
        self.assertEqual(self.incomplete_uploads(), [])
        self.assertEqual(self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", []), [])
        log = proxy.requests()
        self.assertEqual(len(aborted(log)), 2, [q for q in log if q.method == "DELETE"])
        parts = [q for q in log if q.method == "PUT" and PART.search(q.path)]
        self.assertLessEqual(len(parts), 2, parts)  # one slot: a part at a time, then the shutdown
        self.assertEqual(most_at_once(parts), 1)

    def test_part_failing_after_retries_aborts_the_upload(self):
        path = os.path.join(self.tree, "big.bin")
        write_random(path, 30 * MiB)
        proxy = quiet_proxy(MOTO)
        self.addCleanup(proxy.stop)
        proxy.fail_keys = {"big.bin"}  # every PUT of the key, parts included: 400 InvalidArgument
        self.configure(endpoint=proxy.endpoint)
        r = self.syncd("--once")
        self.assertExit(r, 1)
        self.assertIn("InvalidArgument", r.stderr)
        self.assertIn("aborted the multipart upload", r.stderr)
        self.assertEqual(self.incomplete_uploads(), [])


    def test_completion_whose_answer_is_lost_is_confirmed_from_the_listing(self):
        # The server completes the upload but its answer never arrives; the retry is answered
        # NoSuchUpload, and the object with the expected ETag in the listing is the proof.
        path = os.path.join(self.tree, "big.bin")
        write_random(path, 20 * MiB)
        proxy = quiet_proxy(MOTO)
        self.addCleanup(proxy.stop)
        proxy.lose_completion_answers = {"big.bin": 1}
        self.configure(endpoint=proxy.endpoint)
        r = self.syncd("--once")
        self.assertExit(r, 0)
        completes = [q for q in proxy.requests() if q.method == "POST" and "uploadId=" in q.path]
        self.assertEqual([q.status for q in completes], [200, 404], completes)  # lost, then NoSuchUpload
        self.assertUploaded("big.bin", path, 8 * MiB)
        self.assertIn("syncd.txt", [o["Key"] for o in self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])])


if __name__ == "__main__":
    unittest.main()
