// Forwarding the child's output lines as Sentry structured logs
// (https://develop.sentry.dev/sdk/telemetry/logs/): each line is parsed
// (parsers/log_level.h), filtered, and written straight into the JSON text of
// the current batch; a batch becomes one envelope with one `log` item
//   {"type":"log","item_count":N,"content_type":"application/vnd.sentry.items.log+json"}
//   {"items":[{"timestamp":…,"trace_id":…,"level":…,"severity_number":…,"body":…,"attributes":{…}},…]}
// handed to the save callback (the spool). No JSON library runs per line.
//
// Every log carries the attributes Sentry's SDKs add (sentry.sdk.name/version,
// sentry.release, sentry.environment when set, server.address = server_name,
// sentry.origin = auto.log.crashwrap) plus process.pid and log.iostream
// (stdout | stderr, OpenTelemetry's name for the stream), then the line's own
// attributes (keys in the sentry.* namespace or equal to these are left out).
// All logs of a run share one trace_id.
//
// Policy, in order, per line:
//   1. below min_level: ignored (not a drop: the user asked for it);
//   2. trace/debug/info: kept with probability sample_rate, else dropped as
//      sample_rate; warn and above are never sampled;
//   3. a byte budget per minute (serialized log bytes, fixed one-minute
//      windows): a log over it is dropped as ratelimit_backoff, and so is
//      every later line of that window, unparsed (a flood costs no parsing;
//      lines below min_level are then counted too); 0 = no budget.
// A batch is flushed when it holds max_items logs, when its payload passes
// max_payload_bytes, and by tick() once its oldest log is flush_interval old.
// Dropped counts go to the discard callback (data category log_item) at most
// once per second and on flush(true).
//
// Not thread-safe: the event loop owns it. The callbacks run on that thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>

#include "config/config.h"
#include "parsers/log_level.h"
#include "parsers/model.h"

namespace crashwrap::sinks {

class Spool;  // sinks/spool.h

struct LogBatcherOptions {
  parsers::LogLevel min_level = parsers::LogLevel::Info;
  double sample_rate = 1.0;                     // for trace, debug, info
  std::uint64_t budget_bytes_per_minute = 1024 * 1024;  // 0 = unlimited
  std::size_t max_items = 100;                  // Relay's limit per log item
  std::size_t max_payload_bytes = 512 * 1024;   // well under the 1 MiB item limit
  std::chrono::milliseconds flush_interval{1000};
  std::string release, environment, server_name;
  int pid = 0;                                  // the child's; 0 = not known (left out)
  std::string trace_id;                         // 32 lowercase hex; "" = a random one
  std::uint64_t seed = 0;                       // sampling; 0 = random
};

// --logs-min-level, --logs-sample-rate, --logs-budget and the event metadata of `config`.
LogBatcherOptions log_batcher_options(const config::Config& config, int child_pid);

struct LogBatcherStats {
  std::uint64_t kept = 0;            // logs written into batches
  std::uint64_t below_level = 0;     // ignored by min_level
  std::uint64_t sampled_out = 0;     // dropped: sample_rate
  std::uint64_t over_budget = 0;     // dropped: ratelimit_backoff
  std::uint64_t envelopes = 0;       // batches handed to save
  std::uint64_t save_failures = 0;   // save returned false
};

class LogBatcher {
 public:
  // Saves one envelope of `items` logs; false when it could not be kept.
  using Save = std::function<bool(std::string_view envelope, std::size_t items)>;
  // Adds `n` dropped logs under a client-report reason ("sample_rate", …).
  using Discard = std::function<void(std::string_view reason, std::uint64_t n)>;
  // Removes secrets from a body or attribute value in place (sinks/scrubber.h).
  using Scrub = std::function<void(std::string&)>;

  LogBatcher(LogBatcherOptions options, Save save, Discard discard, Scrub scrub = {});

  void add(const parsers::Line& line);
  // The same for a line already parsed.
  void add(const parsers::LogRecord& record, parsers::Stream stream, parsers::Timestamp time);
  // Flushes a batch that has waited flush_interval; reports drops (≤ 1/s).
  void tick(parsers::Timestamp now);
  // Flushes whatever is batched and reports every drop.
  void flush(parsers::Timestamp now);

  // A (new) child runs: its pid is the process.pid of the logs added from now on.
  void child_started(int pid);

  // Called once when the budget first drops a line (a diag warning).
  void on_budget_exceeded(std::function<void()> warn) { budget_warn_ = std::move(warn); }
  // Called at the end of flush(): saves that run elsewhere finish here.
  void on_flush(std::function<void()> wait) { flush_wait_ = std::move(wait); }

  const LogBatcherStats& stats() const noexcept { return stats_; }
  std::size_t batched() const noexcept { return count_; }
  const std::string& trace_id() const noexcept { return opts_.trace_id; }

 private:
  void write_log(const parsers::LogRecord& record, parsers::Stream stream, parsers::Timestamp time);
  bool within_budget(std::size_t bytes, parsers::Timestamp time);
  void save_batch(parsers::Timestamp now);
  void report_drops(parsers::Timestamp now, bool force);

  LogBatcherOptions opts_;
  Save save_;
  Discard discard_;
  Scrub scrub_;
  std::function<void()> budget_warn_;
  std::function<void()> flush_wait_;
  parsers::LogLineParser parser_;
  parsers::LogRecord record_;
  std::string common_stdout_, common_stderr_;  // the fixed attributes, as JSON members
  std::string batch_;                          // "{\"items\":[" + logs joined by ','
  std::string scratch_;                        // a scrubbed body or value
  std::size_t count_ = 0;
  parsers::Timestamp first_{};                 // when the oldest batched log was added
  parsers::Timestamp window_start_{};
  std::uint64_t window_bytes_ = 0;
  bool window_full_ = false;                   // a log did not fit: the rest of the window is dropped
  std::uint64_t unreported_sampled_ = 0, unreported_budget_ = 0;
  parsers::Timestamp last_report_{};
  std::mt19937_64 rng_;
  LogBatcherStats stats_;
};

// The batcher as the pipeline runs it: bodies and string attributes scrubbed
// of secrets (sinks/scrubber.h, unless --no-scrub), batches saved to `spool`
// (category log_item, without fsync: logs are the first thing to give up),
// drops counted in the spool's discarded counters, `saved` called after each
// saved batch (to wake the sender), one diag warning the first time the budget
// drops a line.
std::unique_ptr<LogBatcher> spool_log_batcher(const config::Config& config, int child_pid, Spool spool,
                                              std::function<void()> saved);

}  // namespace crashwrap::sinks
