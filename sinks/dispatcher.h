// The send side's state machine: for every DSN ("lane") it picks the next
// deliverable spool entry, leaves out the items a server rate limit covers
// (counted as ratelimit_backoff), adds the DSN's pending client report,
// submits the request on that DSN's transport slot, and records the outcome
// in the spool (sent / retry-at with backoff / dropped) — each lane on its
// own, so a slow or dead DSN never holds up another.
//
// Claims: an entry being sent is claimed (flock) for the whole request, so
// another crashwrap process sharing the spool does not send it at the same
// time; lanes of this process share one claim per entry.
//
// Persisted per DSN in the spool's state area: `ratelimits-<dsn_key>` and
// `reports-<dsn_key>` (client-report counters, merged with the spool's own
// queue_overflow counts).
//
// Not thread-safe: one thread drives it (the sender thread, or the caller of
// `crashwrap send`); only wake() may be called from other threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/dsn.h"
#include "sinks/client_reports.h"
#include "sinks/curl_transport.h"
#include "sinks/rate_limits.h"
#include "sinks/spool.h"

namespace crashwrap::sinks {

struct DispatchCounts {
  std::size_t sent = 0;      // 2xx, per DSN
  std::size_t dropped = 0;   // 4xx, unreadable or fully rate-limited, per DSN
  std::size_t retried = 0;   // attempts that will be retried
  std::size_t attempts = 0;  // requests completed (reports included)
  std::string last_error;    // describe() of the last failed attempt
};

struct DispatchOptions {
  config::Compression compression = config::Compression::Gzip;
  // One pass for `crashwrap send`: each lane scans the spool once, ignores
  // retry-at times, tries every entry at most once, and a connection failure
  // ends that lane's pass.
  bool one_shot = false;
  // A lane with counts to report and nothing to carry them sends a
  // client_report envelope of its own at most this often (and on flush).
  std::chrono::milliseconds report_interval{30000};
  // The spool is rescanned at least this often (other processes may add entries).
  std::chrono::milliseconds rescan_interval{10000};
};

class Dispatcher {
 public:
  Dispatcher(Spool spool, std::vector<config::Dsn> dsns, std::unique_ptr<Transport> transport,
             DispatchOptions options);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Starts a request on every idle lane that has something to send now.
  void pump(parsers::Timestamp now);
  // Waits up to `timeout` for completions (returns early on wake()) and
  // records their outcomes.
  void wait(std::chrono::milliseconds timeout);
  // Any thread: interrupts wait().
  void wake() noexcept;

  // New entries may have landed: every lane rescans at the next pump.
  void rescan() noexcept;
  // Lanes with counts send their client report at the next pump.
  void report_now() noexcept;

  bool busy() const;  // a request is in flight
  // True when the last pump() started nothing and nothing is in flight.
  bool idle() const { return idle_; }
  // When a lane next has something to send (a retry time, the end of a
  // connection backoff); nullopt when nothing is scheduled.
  std::optional<parsers::Timestamp> next_due() const;

  const DispatchCounts& counts() const noexcept { return counts_; }
  std::size_t scanned() const noexcept { return scanned_; }  // entries found by scans so far
  // Entries in pending/ still owed to at least one lane.
  std::size_t left() const;

 private:
  struct Lane;
  struct Held;
  struct Prepared;

  bool start_next(std::size_t index, parsers::Timestamp now);
  bool start_report(std::size_t index, parsers::Timestamp now);
  void scan(Lane& lane, parsers::Timestamp now);
  std::optional<Prepared> prepare(Lane& lane, Held& held, parsers::Timestamp now);
  void complete(std::size_t index, Response response, parsers::Timestamp now);
  void record_retry(Lane& lane, Held& held, const Response& r, parsers::Timestamp now);
  Held* acquire(const std::string& id);
  void release(const std::string& id);
  void collect_discarded(parsers::Timestamp now);
  ClientReports load_reports(const Lane& lane) const;
  void save_reports(const Lane& lane, const ClientReports& reports);
  void count_discard(Lane& lane, DiscardReason reason, const std::vector<std::string>& categories);
  void save_limits(Lane& lane);
  double jitter();

  Spool spool_;
  std::unique_ptr<Transport> transport_;
  DispatchOptions options_;
  std::vector<Lane> lanes_;
  std::map<std::string, Held> held_;
  DispatchCounts counts_;
  std::size_t scanned_ = 0;
  bool idle_ = false;
  bool rescan_all_ = true;
  bool report_now_ = false;
  parsers::Timestamp next_discard_check_{};
  std::mt19937_64 rng_;
};

}  // namespace crashwrap::sinks
