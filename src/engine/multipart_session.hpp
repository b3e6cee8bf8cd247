// The decisions of one multipart upload, as a state machine without I/O (sans-io, in the shape
// of Boost.MySQL's algorithms): resume(event) takes what the last request or read found and
// returns the next action. upload.cpp's driver carries each action out (a request, a read, an
// fstat) and resumes with what came of it, so every decision here is unit-tested step by step
// without a socket (tests/unit/test_multipart_session.cpp). See docs/multipart.md.
//
// Parts are sent by several workers at once: each asks for a part (part_wanted) when it holds a
// part slot, and the events of one part (hashed, sent, failed) are answered for that worker
// alone. The session-wide steps (list, create, abort, complete) come one at a time, the next
// asked for by the answer to the previous one; the parts phase ends with parts_done, once every
// worker has stopped. A shutdown may be told at any time (shutdown_requested); during the parts
// phase the answer is the abort to send at once, before the parts in flight land.
#pragma once

#include "core/crypto.hpp"
#include "core/errc.hpp"
#include "protocol/multipart.hpp"
#include "protocol/s3_xml.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace syncd::multipart {

// ---- events: what the driver found -------------------------------------------------------

struct start {};                                     // first event: nothing done yet
struct uploads_listed { std::vector<s3::multipart_upload_info> uploads; }; // ListMultipartUploads?prefix=KEY
struct uploads_not_listed { error failure; };
struct parts_listed { std::vector<s3::part_info> parts; };   // ListParts of the upload asked for
struct parts_not_listed { error failure; };
struct aborted {};                                   // the abort asked for was sent (done or not: logged)
struct created { std::string upload_id; };
struct create_failed { error failure; };
struct part_wanted {};                               // a worker holds a part slot and asks for a part
struct part_hashed { std::uint32_t part = 0; crypto::md5_digest md5{}; }; // the part's bytes as read now
struct file_changed { std::uint32_t part = 0; std::string detail; }; // reading the part failed or found the file changed
struct part_sent { std::uint32_t part = 0; std::string etag; };
struct part_failed {                                 // after the client's retries
    std::uint32_t part = 0;
    error failure;
    bool file_unchanged = true;                      // fstat after the failure
    std::string detail;                              // the file's change, when not unchanged
};
struct shutdown_requested {};                        // SIGTERM/SIGINT; may be told more than once
struct parts_done {};                                // every part worker has stopped
struct file_checked { bool unchanged = true; std::string detail; }; // the last fstat
struct completed {                                   // CompleteMultipartUpload answered (or its lost answer was
    std::string etag;                                // confirmed from the listing by s3::client)
    bool whole_object_md5 = false;                   // etag is a plain MD5 (s3rver, some gateways): evidence only
};                                                   // once equal to the whole file's MD5
struct completion_failed { error failure; };
struct whole_md5_checked {                           // the file read whole, once more, after a plain-MD5 completion
    crypto::md5_digest md5{};                        // of the file's bytes as read now
    bool unchanged = true;                           // read whole, and still the walk's file (fstat after)
    std::string detail;                              // the file's change, when not unchanged
};

using event = std::variant<start, uploads_listed, uploads_not_listed, parts_listed, parts_not_listed, aborted,
                           created, create_failed, part_wanted, part_hashed, file_changed, part_sent, part_failed,
                           shutdown_requested, parts_done, file_checked, completed, completion_failed,
                           whole_md5_checked>;

// ---- actions: what the driver is to do next ---------------------------------------------

// A decision worth a log line, written before the action is carried out.
struct note {
    enum kind {
        nothing,
        uploads_not_listed, // warn: cannot list the interrupted uploads (error); starting a new upload
        parts_not_listed,   // warn: cannot list the parts of upload_id (error); it is not resumed
        resuming,           // info: continuing upload_id, parts_present of the plan's parts already there
        starting_over,      // info: the interrupted upload holds other bytes; a new upload is started
    };
    kind what = nothing;
    std::string upload_id;
    std::string problem;               // the listing's failure, as the user reads it
    std::uint32_t parts_present = 0;
};

struct action {
    enum kind {
        none,          // nothing to do (an answer that needs no step, such as an at-once abort's)
        list_uploads,  // ListMultipartUploads?prefix=KEY, all pages -> uploads_listed / uploads_not_listed
        list_parts,    // ListParts of upload_id, all pages -> parts_listed / parts_not_listed
        abort,         // AbortMultipartUpload upload_id, logged with why -> aborted
        create,        // CreateMultipartUpload -> created / create_failed
        send_parts,    // run `workers` part workers (and the shutdown watch) -> parts_done when all stopped
        hash_part,     // (a worker) read part `part` computing its MD5 -> part_hashed / file_changed
        send_part,     // (a worker) UploadPart `part` to upload_id with the MD5 it hashed -> part_sent / part_failed
        next_part,     // (a worker) this part is settled; ask for another -> part_wanted
        worker_done,   // (a worker) nothing left for it: stop
        check_file,    // every part is read: fstat once more -> file_checked
        complete,      // CompleteMultipartUpload upload_id with parts() and expected_etag() -> completed / completion_failed
        check_whole_md5, // the object is completed with a plain-MD5 ETag: read the whole file computing its MD5,
                         // then fstat -> whole_md5_checked
        done,          // finished: outcome() says how
    };
    kind what = none;
    std::uint32_t part = 0;  // hash_part, send_part
    unsigned workers = 0;    // send_parts
    std::string upload_id;   // list_parts, abort, send_part, complete
    std::string why;         // abort: the reason, as logged
    note said;               // a decision to log first

    friend bool operator==(const action& a, kind k) { return a.what == k; }
};

// Why an upload stopped short of completion; the first reason wins.
enum class stop_reason {
    none,     // not stopped (done: the object is stored)
    local,    // the file changed or could not be read
    failed,   // a request failed (after its retries)
    shutdown, // SIGTERM/SIGINT
    stale,    // a resumed upload holds other bytes than the file: it is aborted and the file sent anew
};

struct session_outcome {
    stop_reason stop = stop_reason::none;
    std::string etag;             // none: the stored object's
    error failure;                // failed
    std::string detail;           // local: how the file changed
    std::uint32_t parts = 0;
    std::uint32_t parts_resumed = 0;
};

struct session_settings {
    std::string key;
    part_plan plan;
    bool parts_checkable = true; // false with SSE-KMS: part ETags are not MD5s, so nothing is resumed
    unsigned part_slots = 1;     // part slots' limit: a file runs at most this many part workers
    std::string where;           // the object as messages name it ("s3://bucket/key"); "" = key
};

class session {
public:
    explicit session(session_settings settings);

    action resume(const event& e);

    // A part is left to claim and nothing has stopped the upload: a worker asks this before
    // waiting for a part slot, and asks for the part (part_wanted) once it holds one.
    bool claimable() const;
    // Something has stopped the upload (a part failing is then not retried).
    bool stopped() const { return stop_ != stop_reason::none; }

    // For the complete action: every part's number, ETag and size, and the ETag S3 must give
    // the object (from the MD5s of the parts as they were read).
    std::vector<s3::part_info> parts() const;
    std::string expected_etag() const;

    session_outcome outcome() const;

private:
    enum class phase { start, listing, creating, parts, checking, completing, verifying, replacing, finishing, done };

    action on(const start&);
    action on(const uploads_listed& e);
    action on(const uploads_not_listed& e);
    action on(const parts_listed& e);
    action on(const parts_not_listed& e);
    action on(const aborted&);
    action on(const created& e);
    action on(const create_failed& e);
    action on(const part_wanted&);
    action on(const part_hashed& e);
    action on(const file_changed& e);
    action on(const part_sent& e);
    action on(const part_failed& e);
    action on(const shutdown_requested&);
    action on(const parts_done&);
    action on(const file_checked& e);
    action on(const completed& e);
    action on(const completion_failed& e);
    action on(const whole_md5_checked& e);

    action next_candidate(note said = {});
    action begin_create(note said = {});
    action begin_parts();
    action finish();
    action abort(std::string id, std::string why, note said = {}) const;
    void halt(stop_reason why, std::string detail = {});
    void fail(const error& e);
    std::string why_stopped() const;
    bool valid_part(std::uint32_t n) const { return n >= 1 && n <= s_.plan.count; }

    session_settings s_;
    phase phase_ = phase::start;
    std::vector<std::string> candidates_;    // interrupted uploads of this key, in listing order
    std::size_t next_candidate_ = 0;
    std::string probing_;                    // the candidate whose parts are being listed
    std::string upload_id_;                  // the upload held (resumed or created); "" = none
    std::vector<std::string> uploaded_;      // resuming: ETag per part number already there ("" = missing)
    std::vector<crypto::md5_digest> digests_; // per part, as read
    std::vector<std::string> etags_;          // per part, as S3 has it
    std::uint32_t next_ = 1;                 // the next part to claim
    std::uint32_t resumed_ = 0;
    bool shutdown_ = false;                  // told of a shutdown
    bool aborted_at_once_ = false;           // the shutdown's abort was asked for while parts were out
    stop_reason stop_ = stop_reason::none;
    error failure_;
    std::string detail_;                     // local: how the file changed
    std::string etag_;
};

} // namespace syncd::multipart
