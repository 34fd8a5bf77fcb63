// Everything crashwrap can be told, after CLI > environment > JSON file have
// been merged and validated (see config/load.h). Plain values with defaults.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace crashwrap::config {

using namespace std::chrono_literals;

enum class Command { Run, Send, List, Show, Doctor, Help, Version };
enum class LineBuffer { Auto, On, Off };
enum class Compression { Gzip, Zstd, None };
enum class Restart { No, OnFailure, Always };

struct Config {
  Command command = Command::Run;
  std::vector<std::string> argv;          // child command (Run) or subcommand arguments
  std::string show_id;                    // `crashwrap show ID`

  // --- supervisor (agent/) ---
  bool env_hints = true;                  // PYTHONUNBUFFERED, RUST_BACKTRACE, …
  LineBuffer line_buffer = LineBuffer::Auto;
  bool group = false;                     // signal the child's process group
  int stop_signal = 15;                   // what a received SIGTERM becomes
  std::optional<std::chrono::milliseconds> kill_after;  // SIGKILL after a forwarded SIGTERM
  std::chrono::milliseconds drain_grace = 500ms;        // pipes held open by grandchildren
  std::chrono::milliseconds group_term_grace = 2000ms;  // TERM → KILL of leftover descendants
  std::map<int, int> remap_exit;          // --remap-exit 143=0
  std::set<int> ignore_exit_codes;        // exit codes that are not reported
  bool report_exit_codes = true;          // any non-zero exit not ignored is reported
  std::size_t max_line_bytes = 16 * 1024; // analysis cap per line
  std::size_t tail_lines = 500;
  std::size_t tail_bytes = 256 * 1024;
  bool strict = false;
  bool quiet = false;                     // no summary line
  std::string config_file;

  // --- event metadata ---
  std::string release;                    // SENTRY_RELEASE / --release
  std::string environment;                // SENTRY_ENVIRONMENT / --environment
  std::string server_name;                // hostname by default
  std::vector<std::string> send_env;      // variables copied into the event, never others
  std::vector<std::pair<std::string, std::string>> tags;  // --tag k=v

  // --- spool / outbox (sinks/) ---
  std::string spool_dir;                  // resolved, never empty after load
  std::uint64_t spool_max_bytes = 256ull * 1024 * 1024;
  std::size_t spool_max_files = 1000;

  // --- transport (sinks/) ---
  std::vector<std::string> dsns;          // raw DSN strings, validated by config/dsn
  bool dsn_from_crashwrap_env = false;    // CRASHWRAP_DSN was used (strip it from the child env)
  Compression compression = Compression::Gzip;
  std::chrono::milliseconds flush_timeout = 5000ms;
  std::string ca_file;
  bool insecure = false;
  std::uint64_t attachment_max_bytes = 1024 * 1024;
  std::uint64_t envelope_max_bytes = 20ull * 1024 * 1024;
  std::chrono::milliseconds http_timeout = 15000ms;
  std::chrono::milliseconds connect_timeout = 3000ms;  // per DSN: a dead host never stalls the others
  std::string transport_dir;              // write envelopes here instead of sending (DiskTransport)

  // --- crash detection (parsers/) ---
  std::vector<std::string> detectors;     // empty = all
  bool report_logged = true;              // handled traces while the child runs
  std::chrono::milliseconds report_exit_grace = 2000ms;  // report → exit join window
  std::chrono::milliseconds detector_quiet = 1000ms;     // a trace block ends after this silence
  std::vector<std::string> in_app_include;
  std::vector<std::string> in_app_exclude;
  bool fingerprint_local = false;

  // --- structured logs (sinks/log_batcher) ---
  bool logs = false;                      // forward the child's output lines as Sentry logs
  std::string logs_min_level = "info";    // trace | debug | info | warn | error | fatal
  double logs_sample_rate = 1.0;          // share of trace/debug/info logs kept; warn and above always
  std::uint64_t logs_budget = 1024 * 1024;  // log bytes per minute; 0 = no budget

  // --- protection (sinks/scrubber, sinks/crash_loop, sampling) ---
  bool scrub = true;                      // remove secrets before anything is kept
  std::vector<std::string> scrub_patterns;  // extra ECMAScript regexes, each match → [Filtered]
  std::size_t crash_loop_limit = 5;       // full events per fingerprint per window (0: no limit)
  std::chrono::milliseconds crash_loop_window = 3'600'000ms;
  double sample_rate = 1.0;               // handled (logged) errors kept; fatal ones always

  // --- release health, cron monitoring, restarts (sinks/session, sinks/check_in, agent/restart_policy) ---
  bool sessions = true;                   // one release-health session per child lifetime (needs a release)
  std::string release_source;             // where `release` came from when detected ("GITHUB_SHA"), else ""
  std::string session_did;                // distinct id of sessions; the host name by default
  std::chrono::milliseconds session_update_interval = 3'600'000ms;  // periodic "ok" update
  std::string monitor_slug;               // --monitor: cron check-ins for this monitor
  std::string monitor_schedule;           // crontab "0 3 * * *" or interval "10 minute" (validated)
  std::string monitor_timezone;
  std::optional<std::uint64_t> checkin_margin;  // minutes
  std::optional<std::uint64_t> max_runtime;     // minutes
  Restart restart = Restart::No;
  std::size_t max_restarts = 5;           // consecutive restarts; 0 = unlimited
  std::chrono::milliseconds restart_delay = 1000ms;  // doubles per restart up to 60s
};

}  // namespace crashwrap::config
