#include "parsers/exit_classifier.h"

#include <sys/wait.h>

#include <csignal>

namespace crashwrap::parsers {
namespace {

// Finds "oom_kill <n>" at the start of a line. Both files are "key value" lines;
// v1's oom_control also has "oom_kill_disable", which must not match.
std::optional<std::uint64_t> find_oom_kill(std::string_view text) {
  constexpr std::string_view key = "oom_kill";
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.size() <= key.size() || line.substr(0, key.size()) != key) continue;
    if (line[key.size()] != ' ' && line[key.size()] != '\t') continue;
    std::string_view value = line.substr(key.size());
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\r')) value.remove_suffix(1);
    if (value.empty() || value.size() > 20) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : value) {
      if (c < '0' || c > '9') return std::nullopt;
      const std::uint64_t next = v * 10 + static_cast<std::uint64_t>(c - '0');
      if (next / 10 != v) return std::nullopt;  // overflow
      v = next;
    }
    return v;
  }
  return std::nullopt;
}

// The first counter in `after` that grew against its (source, cgroup) twin in
// `before`. A counter without a twin proves nothing: it may have appeared
// (cgroup created) between the readings.
std::optional<OomEvidence> oom_evidence(const ExitEvidence& ev) {
  for (const auto& a : ev.after) {
    for (const auto& b : ev.before) {
      if (a.source != b.source || a.cgroup != b.cgroup) continue;
      if (a.oom_kill <= b.oom_kill) break;
      OomEvidence e;
      e.source = a.source;
      e.cgroup = a.cgroup;
      e.oom_kill_before = b.oom_kill;
      e.oom_kill_after = a.oom_kill;
      e.memory_limit = a.limit ? a.limit : b.limit;
      e.memory_peak = a.peak;
      return e;
    }
  }
  return std::nullopt;
}

ExitInfo base_info(const ExitEvidence& ev) {
  ExitInfo info;
  info.duration = ev.duration;
  info.last_rss = ev.last_rss;
  info.oom = oom_evidence(ev);
  return info;
}

}  // namespace

std::optional<std::uint64_t> parse_oom_kill_v2(std::string_view memory_events_text) {
  return find_oom_kill(memory_events_text);
}

std::optional<std::uint64_t> parse_oom_kill_v1(std::string_view oom_control_text) {
  return find_oom_kill(oom_control_text);
}

ExitInfo classify_exit(const ExitEvidence& ev) {
  ExitInfo info = base_info(ev);
  const int st = ev.wait_status;
  if (WIFEXITED(st)) {
    info.code = WEXITSTATUS(st);
    info.kind = info.code == 0 ? ExitKind::Clean : ExitKind::ErrorExit;
    return info;
  }
  if (WIFSIGNALED(st)) {
    info.signal = WTERMSIG(st);
    info.signal_name = signal_name(info.signal);
    info.core_dumped = WCOREDUMP(st);
    // The OOM killer only ever sends SIGKILL; any other signal is the signal.
    info.kind = (info.signal == SIGKILL && info.oom) ? ExitKind::OomKilled : ExitKind::Signal;
    return info;
  }
  info.kind = ExitKind::Unknown;  // stopped/continued statuses are not endings
  return info;
}

ExitInfo classify_abandoned(const ExitEvidence& ev) {
  ExitInfo info = base_info(ev);
  if (info.oom) {
    info.kind = ExitKind::OomKilled;
    info.signal = SIGKILL;
    info.signal_name = signal_name(SIGKILL);
  } else {
    info.kind = ExitKind::Unknown;
  }
  return info;
}

}  // namespace crashwrap::parsers
