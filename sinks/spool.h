// The spool: crashwrap's durable outbox. One file per envelope, zstd-compressed
// at rest, in a directory that names its stage (Crashpad's report database is
// the model):
//
//   new/<id>.<pid>.tmp          being written; never read (a dead writer's leftovers go in reclaim_stale)
//   pending/<id>.envelope.zst   saved; owed to a configured DSN, or waiting for a DSN to be configured
//   sent/<id>.envelope.zst      delivered to at least one DSN, nothing owed any more
//   dropped/<id>.envelope.zst   given up for every DSN (the reasons are in its record)
//   records/<id>.json           per-entry record: saved time, category, summary, state per DSN
//   state/<name>                small key-value files the sender persists (rate limits, counters)
//   spool.lock                  flock(2) held while evicting and for read-modify-write of state/
//
// Life cycle: new → pending → sent | dropped.
//   save() writes new/<id>.<pid>.tmp, fsyncs it, renames it into pending/ and
//   fsyncs pending/ — all before any send attempt. Per DSN an entry goes
//   pending → (retry-at T, attempt n)* → sent | dropped(reason); the entry
//   leaves pending/ once every DSN this Spool was opened with has a final state
//   for it. With no DSN configured nothing is final, so the entries wait in
//   pending/ and are delivered when a DSN is configured later (`crashwrap send
//   --dsn …` or the next run with a DSN). An entry already in sent/ is not sent
//   again to a DSN added afterwards.
//
// Bounds: after each save, while the entries exceed max_files or max_bytes
// (sizes of the envelope files), log entries (category log_item, any stage)
// are removed first, oldest first, down to 90% of both bounds so that a log
// flood does not pay a full scan per save; then the oldest finished entries
// (sent/, dropped/), then the oldest pending ones. Pending entries someone has
// claimed are left alone. Each removed pending entry is counted in stats() and
// in the persisted discarded counters as (queue_overflow, its category), which
// feed a client report. A log save looks at the directory only every 64 saves
// or when its own count says the bounds are near (a flood of log batches must
// not stat every entry per batch); other processes' saves are seen then.
//
// Sharing: several crashwrap processes may use one spool. A sender claims an
// entry with flock(2) on its envelope file; the kernel drops the lock when the
// owner dies, so an entry whose sender was SIGKILLed mid-send stays pending and
// is claimable again (at-least-once, never lost).
//
// Failure: no method throws. An unwritable spool or a full disk makes save()
// return nullopt and print one diag warning (once per Spool object); the wrapped
// app keeps running.
//
// Threads: every method may be called from any thread (the event loop saves,
// the sender thread claims); the object's own state is atomics and constants.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "parsers/model.h"
#include "sinks/envelope.h"

namespace crashwrap::sinks {

struct BuiltEvent;  // sinks/event_builder.h

enum class Stage : std::uint8_t { Pending, Sent, Dropped };
std::string_view stage_name(Stage s) noexcept;  // "pending" | "sent" | "dropped"

// One DSN's view of one entry.
enum class DsnStatus : std::uint8_t { Pending, Retry, Sent, Dropped };
std::string_view dsn_status_name(DsnStatus s) noexcept;  // "pending" | "retry" | "sent" | "dropped"

// Stable short key of a DSN (16 hex of a hash of its text): records never hold
// the DSN itself, which may carry a secret.
std::string dsn_key(std::string_view dsn);
// "host[:port][/path]/project" — how `crashwrap list` names a DSN.
std::string dsn_label(std::string_view dsn);

struct DsnDelivery {
  std::string key;     // dsn_key()
  std::string label;   // dsn_label()
  DsnStatus status = DsnStatus::Pending;
  std::uint32_t attempts = 0;                   // failed attempts so far
  std::optional<parsers::Timestamp> retry_at;   // Retry: not before this time
  std::string reason;                           // Dropped: why ("send_error: 413", …)
  std::optional<parsers::Timestamp> updated;
};

struct SpoolEntry {
  std::string id;               // 32 lowercase hex (the event_id for events)
  Stage stage = Stage::Pending;
  std::string path;             // the envelope file
  parsers::Timestamp saved_at{};
  std::uint64_t size = 0;       // bytes on disk (compressed envelope)
  std::string category = "error";  // rate-limit / client-report data category
  std::string summary;          // one line: "SIGSEGV: Segmentation fault", "ExitCode: exited with code 3"
  std::vector<DsnDelivery> deliveries;  // DSNs with a recorded state; others are Pending

  // The recorded state for `dsn`, or a Pending one when nothing is recorded.
  DsnDelivery delivery_for(std::string_view dsn) const;
};

struct SpoolOptions {
  std::string dir;
  std::uint64_t max_bytes = 256ull * 1024 * 1024;
  std::size_t max_files = 1000;
  std::vector<std::string> dsns;   // the DSNs an entry is owed to (only ones that can be delivered)
  EnvelopeLimits limits;           // for save(BuiltEvent)
};

struct SpoolStats {
  std::uint64_t saved = 0;
  std::uint64_t save_failures = 0;
  std::uint64_t evicted_pending = 0;   // queue_overflow: never delivered
  std::uint64_t evicted_finished = 0;  // sent/dropped history pruned
  std::uint64_t attachments_dropped = 0;  // left out of saved envelopes to fit the limits
};

// A persisted count of things dropped on purpose, for client reports.
struct Discarded {
  std::string reason;    // "queue_overflow", "ratelimit_backoff", "send_error", …
  std::string category;  // "error", "attachment", "session", …
  std::uint64_t quantity = 0;
};

// Exclusive right to send one entry and update its record. Move-only; the
// destructor releases it. Valid after the Spool is gone. Sender thread (or
// whoever claimed it); one Claim must not be used from two threads at once.
class Claim {
 public:
  Claim(Claim&&) noexcept;
  Claim& operator=(Claim&&) noexcept;
  Claim(const Claim&) = delete;
  Claim& operator=(const Claim&) = delete;
  ~Claim();

  const SpoolEntry& entry() const noexcept { return entry_; }
  const std::string& id() const noexcept { return entry_.id; }

  // The decompressed envelope bytes as saved (sent_at/dsn are rewritten at
  // send time with rewrite_header). nullopt when the file is unreadable or
  // corrupt — mark it dropped ("unreadable") for each DSN.
  std::optional<std::string> envelope() const;

  // Record the outcome of one attempt for `dsn`. Each writes the record
  // atomically; when every DSN of the Spool has a final state the entry moves
  // to sent/ (any DSN got it) or dropped/. false when the record cannot be
  // written (the entry then stays pending: at-least-once).
  bool mark_sent(std::string_view dsn, parsers::Timestamp now);
  bool mark_retry(std::string_view dsn, parsers::Timestamp retry_at, parsers::Timestamp now);  // attempts+1
  bool mark_dropped(std::string_view dsn, std::string_view reason, parsers::Timestamp now);

  void release() noexcept;  // idempotent

 private:
  friend class Spool;
  struct Shared;
  Claim(std::shared_ptr<const Shared> shared, SpoolEntry entry, int fd) noexcept;
  bool update(std::string_view dsn, DsnDelivery delivery);

  std::shared_ptr<const Shared> shared_;
  SpoolEntry entry_;
  int fd_ = -1;
};

class Spool {
 public:
  // Creates the directory (0700) and its stage subdirectories when missing and
  // checks that it is writable. On failure returns nullopt and sets `error` to
  // one phrase naming the directory and the cause; the caller prints it (once).
  static std::optional<Spool> open(const config::Config& config, std::string& error);
  static std::optional<Spool> open(SpoolOptions options, std::string& error);

  const std::string& dir() const noexcept;
  const std::vector<std::string>& dsns() const noexcept;

  // ---- save side (event loop) ----
  // Builds the envelope (no dsn, sent_at = now; limits from the options),
  // compresses it and saves it atomically, then enforces the bounds. Returns
  // the saved file's path; nullopt + one diag warning (once per Spool) when the
  // directory is unwritable or the disk is full.
  // `extra` items follow the event and its attachments in the same envelope
  // (the session update that goes with a crash).
  std::optional<std::string> save(const BuiltEvent& event,
                                  parsers::Timestamp now = parsers::Clock::now(),
                                  std::vector<EnvelopeItem> extra = {});
  struct SaveInfo {
    std::string id;                  // "" = the header's event_id, else a random one
    std::string category = "error";
    std::string summary;
    bool durable = true;             // false: no fsync (logs); a power loss may lose the entry
  };
  // Saves ready envelope bytes (any items: sessions, check-ins, logs, …).
  std::optional<std::string> save_envelope(std::string_view envelope, const SaveInfo& info,
                                           parsers::Timestamp now = parsers::Clock::now());

  // ---- read side (`crashwrap list` / `show`) ----
  std::vector<SpoolEntry> entries() const;   // pending/, sent/, dropped/; oldest first
  enum class Found : std::uint8_t { One, None, Ambiguous };
  struct FindResult {
    Found found = Found::None;
    SpoolEntry entry;                      // when One
    std::vector<std::string> candidates;   // ids matching the prefix (when Ambiguous)
  };
  FindResult find(std::string_view id_prefix) const;
  std::optional<std::string> read_envelope(const SpoolEntry& entry) const;  // decompressed

  // ---- send side (sender thread) ----
  // Entries in pending/ owed to `dsn` (status Pending, or Retry with retry_at <= now):
  // every other category before log entries (crashes never wait behind logs),
  // each oldest first.
  std::vector<SpoolEntry> deliverable(std::string_view dsn, parsers::Timestamp now) const;
  // Entries in pending/ owed to `dsn` at any time (deliverable or waiting to retry).
  std::size_t owed(std::string_view dsn) const;
  // The earliest retry_at among entries owed to `dsn`; nullopt when none waits.
  std::optional<parsers::Timestamp> next_retry(std::string_view dsn) const;
  // Takes the entry for sending. nullopt when it is gone, already finished, or
  // claimed by someone else (this or another process). Non-blocking.
  std::optional<Claim> claim(std::string_view id);
  // Removes leftovers of writers that died (new/ tmp files of dead pids, stray
  // record tmp files). Claims need no reclaiming: their locks die with their
  // owners. Returns how many files were removed.
  std::size_t reclaim_stale();

  // ---- counters ----
  SpoolStats stats() const noexcept;
  // Persisted discarded-event counters shared by every process on this spool.
  bool add_discarded(std::string_view reason, std::string_view category, std::uint64_t n);
  // Reads and clears them (one atomic step under the spool lock). Put them
  // back with add_discarded when the client report cannot be sent.
  std::vector<Discarded> take_discarded();

  // ---- key-value state for the sender (rate limits, …) ----
  // `name`: 1–64 of [A-Za-z0-9._-]. write_state replaces the file atomically.
  std::optional<std::string> read_state(std::string_view name) const;
  bool write_state(std::string_view name, std::string_view value);

 private:
  struct Counters {
    std::atomic<std::uint64_t> saved{0}, save_failures{0}, evicted_pending{0},
        evicted_finished{0}, attachments_dropped{0};
    std::atomic<bool> warned{false};
    // Usage as of the last scan plus the log entries saved since (see enforce_bounds).
    std::atomic<std::uint64_t> est_files{0}, est_bytes{0}, unscanned_saves{~0ull};
  };
  explicit Spool(SpoolOptions options);
  std::optional<std::string> write_entry(const std::string& id, std::string_view compressed,
                                         const SaveInfo& info, parsers::Timestamp now);
  void enforce_bounds(const std::string& keep_id, bool log_entry, std::uint64_t saved_bytes);
  bool add_discarded_locked(std::string_view reason,
                            const std::map<std::string, std::uint64_t>& by_category);
  void save_failed(std::string_view what, int err);

  std::shared_ptr<const Claim::Shared> shared_;
  std::shared_ptr<Counters> counters_;
};

}  // namespace crashwrap::sinks
