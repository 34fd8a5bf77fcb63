#include "agent/commands.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "agent/cgroup_probe.h"
#include "agent/diag.h"
#include "agent/env_hints.h"
#include "agent/event_text.h"
#include "config/dsn.h"
#include "sinks/envelope.h"
#include "sinks/sender.h"
#include "sinks/spool.h"

namespace crashwrap::agent {
namespace {

using sinks::DsnDelivery;
using sinks::DsnStatus;
using sinks::Spool;
using sinks::SpoolEntry;

void out(std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(STDOUT_FILENO, text.data(), text.size());
    if (n <= 0) return;  // stdout closed: nothing else to tell
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string human_size(std::uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + "B";
  char buf[32];
  const double k = static_cast<double>(bytes) / 1024;
  if (k < 1024) {
    std::snprintf(buf, sizeof buf, "%.1fK", k);
  } else {
    std::snprintf(buf, sizeof buf, "%.1fM", k / 1024);
  }
  return buf;
}

// "2026-11-23 08:00:00Z": seconds are enough for a table.
std::string short_time(parsers::Timestamp t) {
  std::string s = sinks::rfc3339(t);
  s[10] = ' ';
  return s.substr(0, 19) + "Z";
}

std::string delivery_text(const DsnDelivery& d) {
  switch (d.status) {
    case DsnStatus::Pending: return "pending";
    case DsnStatus::Sent: return "sent";
    case DsnStatus::Dropped: return "dropped (" + (d.reason.empty() ? "no reason" : d.reason) + ")";
    case DsnStatus::Retry: {
      std::string s = "retry";
      if (d.retry_at) s += " at " + short_time(*d.retry_at).substr(11);
      return s + " (" + std::to_string(d.attempts) + " failed)";
    }
  }
  return "pending";
}

// One DSN: its state. Several: "label: state; label: state". None: "pending (no DSN)".
std::string state_text(const SpoolEntry& e, const std::vector<std::string>& dsns) {
  std::vector<DsnDelivery> shown;
  for (const auto& dsn : dsns) shown.push_back(e.delivery_for(dsn));
  for (const auto& d : e.deliveries)
    if (std::none_of(shown.begin(), shown.end(), [&](const auto& s) { return s.key == d.key; }))
      shown.push_back(d);
  if (shown.empty())
    return e.stage == sinks::Stage::Pending ? "pending (no DSN)" : std::string(sinks::stage_name(e.stage));
  if (shown.size() == 1) return delivery_text(shown[0]);
  std::string s;
  for (const auto& d : shown) s += (s.empty() ? "" : "; ") + d.label + ": " + delivery_text(d);
  return s;
}

std::vector<std::string> valid_dsns(const config::Config& config) {
  std::vector<std::string> dsns;
  for (const auto& raw : config.dsns) {
    std::string error;
    if (auto dsn = config::parse_dsn(raw, error)) dsns.push_back(dsn->raw);
  }
  return dsns;
}

bool dir_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::optional<Spool> open_existing(const config::Config& config) {
  std::string error;
  auto spool = Spool::open(config, error);
  if (!spool) diag::spool_unreadable(error);
  return spool;
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.resize(width, ' ');
  return s;
}

}  // namespace

int run_list(const config::Config& config) {
  if (!dir_exists(config.spool_dir)) {
    out("no saved events in " + config.spool_dir + "\n");
    return 0;
  }
  auto spool = open_existing(config);
  if (!spool) return 1;
  const auto entries = spool->entries();
  if (entries.empty()) {
    out("no saved events in " + spool->dir() + "\n");
    return 0;
  }
  std::vector<std::string> states;
  std::size_t width = 5;
  std::size_t count[3] = {0, 0, 0};
  for (const auto& e : entries) {
    states.push_back(state_text(e, spool->dsns()));
    width = std::max(width, states.back().size());
    ++count[static_cast<int>(e.stage)];
  }
  std::string text = "ID        SAVED                 SIZE    " + pad("STATE", width) + "  SUMMARY\n";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const SpoolEntry& e = entries[i];
    text += e.id.substr(0, 8) + "  " + short_time(e.saved_at) + "  " + pad(human_size(e.size), 6) +
            "  " + pad(states[i], width) + "  " + (e.summary.empty() ? e.category : e.summary) + "\n";
  }
  text += std::to_string(entries.size()) + (entries.size() == 1 ? " event" : " events") + " in " +
          spool->dir() + " (" + std::to_string(count[0]) + " pending, " + std::to_string(count[1]) +
          " sent, " + std::to_string(count[2]) + " dropped)\n";
  out(text);
  return 0;
}

int run_show(const config::Config& config) {
  std::string id = config.show_id;
  if (id.empty() && !config.argv.empty()) id = config.argv.front();
  if (id.empty()) {
    diag::show_needs_id();
    return 1;
  }
  if (!dir_exists(config.spool_dir)) {
    diag::show_no_match(id, config.spool_dir);
    return 1;
  }
  auto spool = open_existing(config);
  if (!spool) return 1;
  const Spool::FindResult found = spool->find(id);
  if (found.found == Spool::Found::None) {
    diag::show_no_match(id, spool->dir());
    return 1;
  }
  if (found.found == Spool::Found::Ambiguous) {
    diag::show_ambiguous(id, found.candidates);
    return 1;
  }
  const SpoolEntry& e = found.entry;
  auto bytes = spool->read_envelope(e);
  std::string error = "it cannot be read or decompressed";
  std::optional<sinks::ParsedEnvelope> env;
  if (bytes) env = sinks::parse_envelope(*bytes, error);
  if (!env) {
    diag::entry_unreadable(e.id, e.path, error);
    return 1;
  }
  std::string text = "event       " + e.id + "\n";
  text += "saved       " + short_time(e.saved_at) + "  " + e.path + " (" + human_size(e.size) + ")\n";
  text += "state       " + state_text(e, spool->dsns()) + "\n";
  text += render_event(*env);
  text += render_attachments(*env);
  out(text);
  return 0;
}

int run_send(const config::Config& config) {
  if (valid_dsns(config).empty()) {
    std::size_t waiting = 0;
    if (dir_exists(config.spool_dir)) {
      if (auto spool = open_existing(config)) {
        for (const auto& e : spool->entries()) waiting += e.stage == sinks::Stage::Pending;
      }
    }
    diag::send_needs_dsn(waiting, config.dsns.size());
    return waiting == 0 ? 0 : 1;
  }
  // A manual send gets at least a minute, however short the exit-time flush is.
  const auto deadline = std::max<std::chrono::milliseconds>(config.flush_timeout, std::chrono::minutes(1));
  sinks::Sender sender(config, config.spool_dir);
  const sinks::SendSummary summary = sender.send_all(deadline, ::isatty(STDERR_FILENO) == 1);
  return summary.spool_empty ? 0 : 1;
}

namespace {

struct Doctor {
  bool failed = false;
  void line(const char* status, const char* what, const std::string& text) {
    if (std::string_view(status) == "FAIL") failed = true;
    out(pad(status, 6) + pad(what, 8) + "  " + text + "\n");
  }
};

void check_spool(Doctor& d, const config::Config& config) {
  std::string error;
  auto spool = Spool::open(config, error);
  if (!spool) {
    d.line("FAIL", "spool", error + " \xe2\x80\x94 fix: point --spool (CRASHWRAP_SPOOL) at a writable directory");
    return;
  }
  std::size_t pending = 0;
  const auto entries = spool->entries();
  for (const auto& e : entries) pending += e.stage == sinks::Stage::Pending;
  d.line("ok", "spool", spool->dir() + " is writable (" + std::to_string(entries.size()) +
                            " events, " + std::to_string(pending) + " pending)");
}

void check_dsns(Doctor& d, const config::Config& config) {
  if (config.dsns.empty()) {
    d.line("note", "dsn", "none set: events stay in the spool; set --dsn, CRASHWRAP_DSN or "
                          "SENTRY_DSN, then `crashwrap send` uploads them");
    return;
  }
  for (const auto& raw : config.dsns) {
    std::string error;
    if (auto dsn = config::parse_dsn(raw, error)) {
      d.line("ok", "dsn", config::redact_dsn(raw) + " \xe2\x86\x92 " + dsn->envelope_url());
    } else {
      d.line("FAIL", "dsn", config::redact_dsn(raw) + ": " + error +
                                " \xe2\x80\x94 fix: copy the DSN from the project's Client Keys page");
    }
  }
}

void check_stdbuf(Doctor& d) {
  if (auto lib = find_libstdbuf()) {
    d.line("ok", "stdbuf", *lib + " (C programs get line-buffered stdout with --line-buffer)");
  } else {
    d.line("warn", "stdbuf", "coreutils' libstdbuf.so not found: C programs' stdout stays "
                             "block-buffered under a pipe \xe2\x80\x94 fix: install coreutils");
  }
}

void check_cgroup(Doctor& d) {
  const CgroupProbe probe = CgroupProbe::discover(0);
  if (probe.version() == CgroupVersion::None) {
    d.line("warn", "cgroup", "no memory cgroup found: an OOM kill is reported as a plain SIGKILL "
                             "\xe2\x80\x94 fix: mount /sys/fs/cgroup (read-only is enough)");
    return;
  }
  const auto counters = probe.read();
  const std::string version = probe.version() == CgroupVersion::V2 ? "v2 " : "v1 ";
  if (counters.empty()) {
    d.line("warn", "cgroup", version + probe.directory() + ": OOM counters are not readable "
                             "\xe2\x80\x94 fix: make the cgroup files readable to crashwrap");
    return;
  }
  const auto& c = counters.front();
  std::string text = version + probe.directory() + " (" + c.source + " oom_kill " + std::to_string(c.oom_kill);
  if (c.limit) text += ", limit " + human_size(*c.limit);
  d.line("ok", "cgroup", text + ")");
}

}  // namespace

int run_doctor(const config::Config& config) {
  Doctor d;
  check_spool(d, config);
  check_dsns(d, config);
  check_stdbuf(d);
  check_cgroup(d);
  return d.failed ? 1 : 0;
}

}  // namespace crashwrap::agent
