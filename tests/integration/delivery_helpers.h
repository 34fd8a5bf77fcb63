// Shared by the delivery integration tests (transport, retry, rate_limit,
// multi_dsn, kill_during_send): run the real crashwrap against loopback
// receivers with a private spool, and look at the spool afterwards.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sinks/spool.h"
#include "support/paths.h"
#include "support/process.h"
#include "support/receiver.h"

namespace crashwrap::test::delivery {

using namespace std::chrono_literals;

// crashwrap's options, then "--", then testapp with `child` commands. The
// environment carries no DSN of the test runner's, and the spool is private.
inline ProcessOptions wrap(const std::string& spool, std::vector<std::string> options,
                           std::vector<std::string> child) {
  ProcessOptions o;
  o.argv = {crashwrap_bin(), "--spool", spool};
  o.argv.insert(o.argv.end(), options.begin(), options.end());
  o.argv.push_back("--");
  o.argv.push_back(test_program("testapp"));
  o.argv.insert(o.argv.end(), child.begin(), child.end());
  o.env_unset = {"SENTRY_DSN", "CRASHWRAP_DSN", "CRASHWRAP_SPOOL", "http_proxy", "https_proxy",
                 "HTTPS_PROXY", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"};
  o.cwd = spool.substr(0, spool.rfind('/'));
  return o;
}

// A child that fails with exit code 3 after one stderr line: crashwrap
// reports it (a synthetic event with the output tail).
inline std::vector<std::string> failing_child(const std::string& line = "boom") {
  return {"err", line, "exit", "3"};
}

// `crashwrap send` with these options.
inline ProcessOptions send_command(const std::string& spool, std::vector<std::string> options) {
  ProcessOptions o;
  o.argv = {crashwrap_bin(), "send", "--spool", spool};
  o.argv.insert(o.argv.end(), options.begin(), options.end());
  o.env_unset = {"SENTRY_DSN", "CRASHWRAP_DSN", "CRASHWRAP_SPOOL"};
  return o;
}

inline std::vector<sinks::SpoolEntry> spool_entries(const std::string& dir) {
  sinks::SpoolOptions o;
  o.dir = dir;
  std::string error;
  auto spool = sinks::Spool::open(o, error);
  if (!spool) return {};
  return spool->entries();
}

inline std::optional<std::string> spool_state(const std::string& dir, const std::string& name) {
  sinks::SpoolOptions o;
  o.dir = dir;
  std::string error;
  auto spool = sinks::Spool::open(o, error);
  if (!spool) return std::nullopt;
  return spool->read_state(name);
}

inline bool write_spool_state(const std::string& dir, const std::string& name, const std::string& value) {
  sinks::SpoolOptions o;
  o.dir = dir;
  std::string error;
  auto spool = sinks::Spool::open(o, error);
  return spool && spool->write_state(name, value);
}

// Number of events among accepted envelopes.
inline std::size_t event_count(const Receiver& rx) {
  std::size_t n = 0;
  for (const auto& e : rx.envelopes()) n += e.item("event") != nullptr;
  return n;
}

// Requests (accepted or not) that carried an event item.
inline std::size_t event_requests(const Receiver& rx) {
  std::size_t n = 0;
  for (const auto& r : rx.requests())
    n += r.body.find("{\"type\":\"event\"") != std::string::npos;
  return n;
}

// Sum of client-report quantities for (reason, category) over accepted envelopes.
inline std::uint64_t reported(const Receiver& rx, std::string_view reason, std::string_view category) {
  std::uint64_t n = 0;
  for (const auto& env : rx.envelopes()) {
    nlohmann::json r = env.client_report();
    if (r.is_null()) continue;
    for (const auto& d : r["discarded_events"])
      if (d["reason"] == reason && d["category"] == category) n += d["quantity"].get<std::uint64_t>();
  }
  return n;
}

inline std::chrono::milliseconds elapsed_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

}  // namespace crashwrap::test::delivery
