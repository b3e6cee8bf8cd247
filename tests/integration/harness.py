"""Test harness: real S3-compatible servers on free loopback ports, syncd runs, independent checks.

Servers:
  Moto     moto_server; the request log (werkzeug) gives method, path and status of every request.
           auth=True starts it with INITIAL_NO_AUTH_ACTION_COUNT and creates an IAM user + key
           through its API, so SigV4 signatures are verified for real.
  S3rver   s3rver from npm (pinned in tools/testserver), disk-backed, optionally over HTTPS with a
           throwaway CA made by openssl.
  RGW      Ceph's RADOS Gateway on a throwaway one-node cluster (tools/testserver/rgw): verifies
           SigV4 for every key and Content-MD5 (BadDigest), returns real multipart ETags.
  FaultProxy  a small HTTP proxy in front of a server that logs requests, can fail chosen keys,
           delay chosen keys, corrupt bodies in flight, or refuse everything (endpoint "goes away").

Objects are read back with boto3, never with syncd's own client.
"""
import hashlib
import http.client
import http.server
import json
import os
import random
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

import boto3
import botocore.config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SYNCD = os.environ.get("SYNCD_BIN", os.path.join(ROOT, "build", "syncd"))
S3RVER = os.path.join(ROOT, "tools", "testserver", "node_modules", ".bin", "s3rver")
RGW_SCRIPT = os.path.join(ROOT, "tools", "testserver", "rgw")
REGION = "us-east-1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited early with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port} after {timeout}s")


def boto_client(endpoint, key, secret, verify=None):
    return boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
        region_name=REGION, verify=verify,
        config=botocore.config.Config(s3={"addressing_style": "path"},
                                      retries={"max_attempts": 2}))


class Request:
    __slots__ = ("method", "path", "status", "start", "end")

    def __init__(self, method, path, status, start=None, end=None):
        self.method, self.path, self.status = method, path, status
        self.start, self.end = start, end  # monotonic times (FaultProxy only)

    def __repr__(self):
        return f"{self.method} {self.path} {self.status}"

    @property
    def key_path(self):
        """Path without the query string, percent-decoded."""
        return urllib.parse.unquote(self.path.split("?", 1)[0])


class Server:
    """Common part: a subprocess with a log file that records requests."""

    key = "test-key"
    secret = "test-secret"
    scheme = "http"

    def __init__(self, workdir):
        self.workdir = workdir
        self.port = free_port()
        self.log_path = os.path.join(workdir, f"{type(self).__name__.lower()}-{self.port}.log")
        self.proc = None

    @property
    def endpoint(self):
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def client(self):
        return boto_client(self.endpoint, self.key, self.secret)

    def make_bucket(self, name):
        self.client().create_bucket(Bucket=name)
        return name

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def _parse(self, line):
        raise NotImplementedError

    def requests(self, bucket=None):
        """Every request in the log so far (optionally only those for one bucket). Waits until
        the log has stopped growing, since servers log a request after answering it."""
        last = -1
        for _ in range(50):
            size = os.path.getsize(self.log_path)
            if size == last:
                break
            last = size
            time.sleep(0.1)
        out = []
        with open(self.log_path, errors="replace") as f:
            for line in f:
                r = self._parse(line)
                if r and (bucket is None or r.key_path == f"/{bucket}"
                          or r.key_path.startswith(f"/{bucket}/")
                          or r.key_path.startswith(f"/{bucket}?")):
                    out.append(r)
        return out


class Moto(Server):
    LINE = re.compile(r'"([A-Z]+) (\S+) HTTP/[0-9.]+" (\d{3})')

    def __init__(self, workdir, auth=False):
        super().__init__(workdir)
        env = dict(os.environ)
        if auth:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(self.port)],
                                         stdout=log, stderr=subprocess.STDOUT, env=env)
        wait_port(self.port, self.proc)
        if auth:
            iam = boto3.client("iam", endpoint_url=self.endpoint, aws_access_key_id="boot",
                               aws_secret_access_key="boot", region_name=REGION)
            iam.create_user(UserName="syncd")
            k = iam.create_access_key(UserName="syncd")["AccessKey"]
            iam.put_user_policy(UserName="syncd", PolicyName="all", PolicyDocument=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
            self.key, self.secret = k["AccessKeyId"], k["SecretAccessKey"]

    def _parse(self, line):
        m = self.LINE.search(line)
        return Request(m.group(1), m.group(2), int(m.group(3))) if m else None


def module_moto(name):
    """A moto_server for one test module, in its own scratch directory; stopped (and the
    directory removed unless KEEP_TEST_DIRS is set) after the module's tests. Call it from
    setUpModule."""
    tmp = tempfile.mkdtemp(prefix=f"syncd-{name}-")
    moto = Moto(tmp)

    def cleanup():
        moto.stop()
        if not os.environ.get("KEEP_TEST_DIRS"):
            shutil.rmtree(tmp, ignore_errors=True)
    unittest.addModuleCleanup(cleanup)
    return moto


def make_ca(workdir):
    """A throwaway CA and a server certificate for 127.0.0.1 signed by it. Returns paths
    (ca_cert, server_cert, server_key)."""
    d = os.path.join(workdir, "pki")
    os.makedirs(d, exist_ok=True)
    ca_key, ca_crt = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    key, csr, crt = (os.path.join(d, n) for n in ("server.key", "server.csr", "server.pem"))
    ext = os.path.join(d, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")

    def ossl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_crt,
         "-days", "2", "-subj", "/CN=syncd test CA")
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
         "-subj", "/CN=127.0.0.1")
    ossl("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
         "-out", crt, "-days", "2", "-extfile", ext)
    return ca_crt, crt, key


class S3rver(Server):
    """s3rver; stores objects under DIR/bucket/key._S3rver_object. Checks neither signatures
    nor Content-MD5: use it for transport tests (HTTPS), not for integrity or signing."""

    key = "S3RVER"
    secret = "S3RVER"

    def __init__(self, workdir, buckets=(), tls=None):
        super().__init__(workdir)
        self.data = os.path.join(workdir, f"s3rver-data-{self.port}")
        os.makedirs(self.data)
        cmd = [S3RVER, "-d", self.data, "-a", "127.0.0.1", "-p", str(self.port)]
        for b in buckets:
            cmd += ["--configure-bucket", b]
        self.ca = None
        if tls:
            self.ca, cert, key = tls
            cmd += ["--cert", cert, "--key", key]
            self.scheme = "https"
        env = dict(os.environ)
        env["NODE_OPTIONS"] = "--openssl-legacy-provider"
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        wait_port(self.port, self.proc)

    def requests(self, bucket=None):
        # s3rver's log lines carry neither the method nor the whole path; put a FaultProxy in
        # front of it to observe requests.
        raise NotImplementedError("s3rver has no usable request log; use FaultProxy")

    def client(self):
        return boto_client(self.endpoint, self.key, self.secret, verify=self.ca)


class RGW(Server):
    """Ceph's RADOS Gateway (tools/testserver/rgw: one mon, one in-memory OSD, the gateway on a
    free port; about 5 s to start). The server to prove signing and integrity against: it
    verifies SigV4 for every key (SignatureDoesNotMatch) and Content-MD5 (BadDigest), and its
    multipart ETags are the real MD5-of-MD5s. Its error bodies carry an empty <Message>. The
    secret has '+' and '/' in it, as real AWS secrets do."""

    key = "AKIDSYNCDTEST"
    secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    LINE = re.compile(r' beast: \S+ \S+ - \S+ \[[^]]*\] "(\S+) (\S+) [^"]*" (\d+) ')

    def __init__(self, workdir):
        super().__init__(workdir)
        self.data = os.path.join(workdir, f"rgw-{self.port}")
        self.errors = open(os.path.join(workdir, f"rgw-{self.port}.stderr"), "w+")
        self.proc = subprocess.Popen([RGW_SCRIPT, self.data, str(self.port), self.key, self.secret],
                                     stdout=subprocess.PIPE, stderr=self.errors, text=True)
        ready = self.proc.stdout.readline()
        if not ready.startswith("READY"):
            self.proc.wait()
            self.errors.seek(0)
            raise RuntimeError("rgw did not start:\n" + self.errors.read()[-3000:])
        self.log_path = os.path.join(self.data, "rgw.log")

    def _parse(self, line):
        m = self.LINE.search(line)
        return Request(m.group(1), m.group(2), int(m.group(3))) if m else None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # the script stops the gateway, the OSD and the mon
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()  # its daemons die with it (parent-death signal)
                self.proc.wait()
        self.errors.close()
        shutil.rmtree(self.data, ignore_errors=True)


class FaultProxy:
    """HTTP proxy on a free port in front of `upstream` (a Server). Logs every request it sees
    (method, path, status). Rules, changeable while running:
      fail_keys   object keys (decoded, without bucket) whose PUT gets 400 InvalidArgument
      delay_keys  {key: seconds} a PUT of that key is held this long before being forwarded
      delay_puts  seconds every PUT is held (0 = none)
      corrupt_keys object keys whose PUT body gets one byte flipped on the way (headers untouched)
      lose_completion_answers  {key: n}: the next n CompleteMultipartUpload requests of key reach
                  the server, but the connection is closed instead of answering (answer lost);
                  after that, completions of key are answered 404 NoSuchUpload without being
                  forwarded, as S3 answers once the upload is complete (moto and RGW answer 200)
      hold_bodies {key: n}: the next PUT of key has its body read up to byte n, then the proxy sets
                  `held` and reads no more until `release` is set (the sender stalls mid-body);
                  a body that then ends early is not forwarded, its connection is closed
      etag_answers {key: (etag, extra_headers)}: the answer to a PutObject of key (not a part) has
                  its ETag header replaced by etag (None: removed) and the headers in the dict
                  extra_headers added; the object is stored as sent
      completion_etags {key: etag}: the answer to a CompleteMultipartUpload of key has the text of
                  its <ETag> replaced by etag ("": <ETag></ETag>, as Ceph RGW 16 answers; None: no
                  <ETag> element at all) and no ETag header; the upload is completed as asked
      down        True: every connection is closed at once (endpoint gone)
    """

    def __init__(self, upstream):
        self.upstream = upstream
        self.fail_keys = set()
        self.delay_keys = {}
        self.delay_puts = 0.0
        self.corrupt_keys = set()
        self.lose_completion_answers = {}
        self.hold_bodies = {}
        self.etag_answers = {}
        self.completion_etags = {}
        self.held = threading.Event()
        self.release = threading.Event()
        self.down = False
        self.log = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _handle(self):
                if proxy.down:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                start = time.monotonic()
                n = int(self.headers.get("Content-Length") or 0)
                key = urllib.parse.unquote(self.path.split("?", 1)[0]).split("/", 2)
                key = key[2] if len(key) > 2 else ""
                with proxy.lock:
                    hold = proxy.hold_bodies.pop(key, None) if self.command == "PUT" else None
                if hold is not None and hold < n:
                    body = self.rfile.read(hold)
                    proxy.held.set()
                    proxy.release.wait(60)
                    body += self.rfile.read(n - hold)
                else:
                    body = self.rfile.read(n) if n else b""
                if len(body) < n:
                    with proxy.lock:
                        proxy.log.append(Request(self.command, self.path, 0, start, time.monotonic()))
                    self.close_connection = True
                    return
                if self.command == "PUT" and key in proxy.delay_keys:
                    time.sleep(proxy.delay_keys[key])
                if self.command == "PUT" and key in proxy.corrupt_keys and body:
                    body = bytes([body[0] ^ 0x01]) + body[1:]
                if self.command == "PUT" and proxy.delay_puts:
                    time.sleep(proxy.delay_puts)
                completion = self.command == "POST" and "uploadId=" in self.path
                with proxy.lock:
                    gone = completion and proxy.lose_completion_answers.get(key) == 0
                if gone:
                    status, headers, data = 404, [("Content-Type", "application/xml")], (
                        b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>NoSuchUpload</Code>"
                        b"<Message>injected: the upload is complete</Message><RequestId>proxy-2</RequestId></Error>")
                elif self.command == "PUT" and key in proxy.fail_keys:
                    status, headers, data = 400, [("Content-Type", "application/xml")], (
                        b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>InvalidArgument</Code>"
                        b"<Message>injected failure</Message><RequestId>proxy-1</RequestId></Error>")
                else:
                    conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream.port, timeout=60)
                    hdrs = {k: v for k, v in self.headers.items()}
                    conn.request(self.command, self.path, body=body, headers=hdrs)
                    resp = conn.getresponse()
                    data = resp.read()
                    status = resp.status
                    headers = [(k, v) for k, v in resp.getheaders()
                               if k.lower() not in ("transfer-encoding", "connection", "content-length")]
                    conn.close()
                    with proxy.lock:
                        rewrite = proxy.etag_answers.get(key) if (
                            self.command == "PUT" and "uploadId=" not in self.path) else None
                    if rewrite is not None:
                        etag, extra = rewrite
                        headers = [(k, v) for k, v in headers if k.lower() != "etag"]
                        if etag is not None:
                            headers.append(("ETag", etag))
                        headers += list((extra or {}).items())
                    with proxy.lock:
                        rewrite = completion and key in proxy.completion_etags
                        new_etag = proxy.completion_etags.get(key)
                    if rewrite and status == 200:
                        headers = [(k, v) for k, v in headers if k.lower() != "etag"]
                        element = b"" if new_etag is None else b"<ETag>%s</ETag>" % new_etag.encode()
                        data = re.sub(rb"<ETag>.*?</ETag>", lambda m: element, data, flags=re.S)
                with proxy.lock:
                    proxy.log.append(Request(self.command, self.path, status, start, time.monotonic()))
                    lose = not gone and completion and proxy.lose_completion_answers.get(key, 0) > 0
                    if lose:
                        proxy.lose_completion_answers[key] -= 1
                if lose:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle

        class Srv(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Srv(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def requests(self):
        with self.lock:
            return list(self.log)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def quiet_proxy(upstream):
    """A FaultProxy that does not print a traceback when a connection breaks mid-request (syncd
    killed, or a held body that syncd gives up on)."""
    proxy = FaultProxy(upstream)
    proxy.server.handle_error = lambda request, address: None
    return proxy


# ---------------------------------------------------------------------------------------------
# Local trees, configs, runs


def write_tree(root, files):
    """files: {relative path: bytes or str}. Directories are created as needed."""
    for rel, data in files.items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)


def age_tree(root, seconds=3600):
    """Set every mtime under root (and root itself) into the past, so settle_time is met."""
    t = time.time() - seconds
    for dirpath, dirnames, filenames in os.walk(root):
        for n in filenames:
            os.utime(os.path.join(dirpath, n), (t, t), follow_symlinks=False)
        os.utime(dirpath, (t, t))


def write_config(path, **keys):
    """Writes key = value lines; list values become repeated lines (exclude)."""
    with open(path, "w") as f:
        for k, v in keys.items():
            for item in (v if isinstance(v, (list, tuple)) else [v]):
                if isinstance(item, bool):
                    item = "true" if item else "false"
                f.write(f"{k} = {item}\n")
    os.chmod(path, 0o600)
    return path


def clean_env(state_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["SYNCD_STATE_DIR"] = state_dir
    env["HOME"] = state_dir  # no ~/.aws of the machine's user leaks into a test
    return env


def wait_for(pred, timeout, step=0.1):
    """pred()'s first true value within timeout seconds (else its last value)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def run_syncd(args, state_dir, timeout=300, env_extra=None):
    env = clean_env(state_dir)
    if env_extra:
        env.update(env_extra)
    return subprocess.run([SYNCD, *args], capture_output=True, text=True, errors="replace",
                          env=env, timeout=timeout)


# ---------------------------------------------------------------------------------------------
# Independent views of the local tree, computed the way docs/markers.md defines them


def listed_etag(o):
    """An object's ETag as the digest holds it (docs/markers.md): without quotes, lower-case."""
    return o["ETag"].strip('"').lower()


def merkle(root, rel="", *, objects, prefix="", marker="syncd.txt", skip=lambda rel: False):
    """(digest, files, bytes, total_files, total_bytes, subdirs) of directory rel, over regular
    files (no symlinks), ignoring the marker name and anything skip(rel) says. Names and sizes come
    from the local tree, each file's ETag from objects, a boto3 listing of the bucket
    ({key: object}, see all_objects): never from syncd. The digest is format 2 (docs/markers.md):
    SHA-256 over b"syncd digest 2\n", then per entry sorted by name bytes
    b"f <len>:<name> <size> <etag>\n" or b"d <len>:<name> <child digest>\n", len in bytes. A file
    missing from the listing, or listed with another size, raises: the tree is not in S3."""
    d = os.path.join(root, rel)
    lines, files, nbytes, tfiles, tbytes, subdirs = [], 0, 0, 0, 0, 0
    for name in sorted(os.listdir(d), key=lambda n: os.fsencode(n)):
        p = os.path.join(d, name)
        r = f"{rel}/{name}" if rel else name
        if name == marker or name.startswith(f".{marker}.tmp-") or skip(r):
            continue
        if os.path.islink(p):
            continue
        bname = os.fsencode(name)
        if os.path.isdir(p):
            cd, _, _, cf, cb, _ = merkle(root, r, objects=objects, prefix=prefix, marker=marker, skip=skip)
            lines.append((bname, b"d %d:%s %s\n" % (len(bname), bname, cd.encode())))
            tfiles += cf
            tbytes += cb
            subdirs += 1
        elif os.path.isfile(p):
            size = os.path.getsize(p)
            key = prefix + r
            if key not in objects:
                raise LookupError(f"{key!r} is not in the listing")
            if objects[key]["Size"] != size:
                raise LookupError(f"{key!r} is listed with {objects[key]['Size']} bytes, local {size}")
            etag = listed_etag(objects[key]).encode()
            lines.append((bname, b"f %d:%s %d %s\n" % (len(bname), bname, size, etag)))
            files += 1
            nbytes += size
    lines.sort(key=lambda x: x[0])
    h = hashlib.sha256(b"syncd digest 2\n")
    for _, line in lines:
        h.update(line)
    return "sha256:" + h.hexdigest(), files, nbytes, tfiles + files, tbytes + nbytes, subdirs


def merkle_from_listing(client, bucket, prefix, rel, marker="syncd.txt"):
    """Directory rel's digest from S3 alone, the way docs/markers.md says anyone can check it: one
    ListObjectsV2 of its prefix with delimiter "/" gives its files' names, sizes and ETags and its
    subdirectories, whose digests are read from their markers. Assumes S3 holds exactly the
    directory's sync set (nothing deleted locally or excluded since it was uploaded)."""
    dir_prefix = f"{prefix}{rel}/" if rel else prefix
    lines = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=dir_prefix,
                                                                 Delimiter="/"):
        for o in page.get("Contents", []):
            name = o["Key"][len(dir_prefix):]
            if name == marker:
                continue
            bname = name.encode()
            lines.append((bname, b"f %d:%s %d %s\n" % (len(bname), bname, o["Size"],
                                                         listed_etag(o).encode())))
        for cp in page.get("CommonPrefixes", []):
            name = cp["Prefix"][len(dir_prefix):-1]
            child = json.loads(get_bytes(client, bucket, cp["Prefix"] + marker))["digest"]
            bname = name.encode()
            lines.append((bname, b"d %d:%s %s\n" % (len(bname), bname, child.encode())))
    lines.sort(key=lambda x: x[0])
    h = hashlib.sha256(b"syncd digest 2\n")
    for _, line in lines:
        h.update(line)
    return "sha256:" + h.hexdigest()


def local_dirs(root):
    out = [""]
    for dirpath, dirnames, _ in os.walk(root):
        for n in dirnames:
            out.append(os.path.relpath(os.path.join(dirpath, n), root))
    return sorted(out)


def marker_key(prefix, rel, marker="syncd.txt"):
    return f"{prefix}{rel}/{marker}" if rel else f"{prefix}{marker}"


def all_objects(client, bucket, prefix=""):
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            out[o["Key"]] = o
    return out


def get_bytes(client, bucket, key):
    return client.get_object(Bucket=bucket, Key=key)["Body"].read()


class TempDirTest(unittest.TestCase):
    """Each test gets a scratch directory (removed afterwards unless KEEP_TEST_DIRS is set) with a
    local tree dir, a state dir and a config path."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix=f"syncd-{self._testMethodName}-")
        self.tree = os.path.join(self.tmp, "tree")
        self.state = os.path.join(self.tmp, "state")
        self.conf = os.path.join(self.tmp, "syncd.conf")
        os.makedirs(self.tree)
        os.makedirs(self.state)

    def tearDown(self):
        if not os.environ.get("KEEP_TEST_DIRS"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def bucket_name(self):
        return ("t-" + re.sub(r"[^a-z0-9]", "-", self._testMethodName.lower()))[:50] + \
            f"-{random.randrange(1 << 30):x}"

    def configure(self, endpoint, bucket, **extra):
        """Writes this test's config: test credentials (servers here do not check them unless
        started to), the test's tree, the bucket at endpoint, plus any extra keys."""
        keys = dict(aws_access_key="k", aws_secret_key="s", local_dir=self.tree,
                    bucket_name=bucket, endpoint=endpoint, region="us-east-1", concurrency=8)
        keys.update(extra)
        write_config(self.conf, **keys)

    def syncd(self, *args, **kw):
        r = run_syncd([*args, self.conf], self.state, **kw)
        self.last = r
        return r

    def start(self, *args):
        """syncd in the background with this test's config, stderr to a file (see stderr());
        killed at the end of the test if still running."""
        self.errlog = open(os.path.join(self.tmp, "syncd.stderr"), "w+")
        p = subprocess.Popen([SYNCD, *args, self.conf], env=clean_env(self.state),
                             stdout=subprocess.DEVNULL, stderr=self.errlog)
        self.addCleanup(self.kill, p)
        return p

    def kill(self, p):
        if p.poll() is None:
            p.kill()
            p.wait()
        self.errlog.close()

    def stderr(self):
        self.errlog.flush()
        with open(self.errlog.name, errors="replace") as f:
            return f.read()

    def assertExit(self, r, code):
        self.assertEqual(r.returncode, code,
                         f"exit {r.returncode}, expected {code}\n--- stdout\n{r.stdout[-3000:]}"
                         f"\n--- stderr\n{r.stderr[-6000:]}")
