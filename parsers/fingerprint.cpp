#include "parsers/fingerprint.h"

#include <cstdint>
#include <cstdio>

namespace crashwrap::parsers {
namespace {

struct Fnv {
  std::uint64_t h = 1469598103934665603ull;
  void add(std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
    h ^= 0xff;  // field separator, so ("ab","c") != ("a","bc")
    h *= 1099511628211ull;
  }
  std::string hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
  }
};

// At most this many function names count: deep recursion must not make every
// crash unique.
constexpr std::size_t kMaxFunctions = 16;

const std::vector<Frame>* crash_frames(const CrashReport& r) {
  if (!r.exceptions.empty() && !r.exceptions.back().stacktrace.frames.empty())
    return &r.exceptions.back().stacktrace.frames;
  for (const Thread& t : r.threads)
    if (t.crashed && !t.stacktrace.frames.empty()) return &t.stacktrace.frames;
  if (!r.threads.empty()) return &r.threads.front().stacktrace.frames;
  return nullptr;
}

}  // namespace

std::string fingerprint(const CrashReport& report) {
  Fnv f;
  f.add(report.runtime);
  f.add(report.exceptions.empty() ? std::string_view{} : std::string_view(report.exceptions.back().type));
  if (const auto* frames = crash_frames(report)) {
    bool any_in_app = false;
    for (const Frame& fr : *frames) any_in_app = any_in_app || fr.in_app.value_or(false);
    std::size_t used = 0;
    // Newest frames are at the end (oldest-first order): walk backwards.
    for (auto it = frames->rbegin(); it != frames->rend() && used < kMaxFunctions; ++it) {
      if (any_in_app && !it->in_app.value_or(false)) continue;
      if (it->function.empty()) continue;
      f.add(it->module);
      f.add(it->function);
      ++used;
    }
  }
  return f.hex();
}

std::string fingerprint(const ExitInfo& exit, std::string_view command) {
  Fnv f;
  f.add("exit");
  f.add(command);
  switch (exit.kind) {
    case ExitKind::Signal: f.add(exit.signal_name); break;
    case ExitKind::OomKilled: f.add("oom"); break;
    case ExitKind::ErrorExit: f.add(std::to_string(exit.code)); break;
    case ExitKind::Clean: f.add("clean"); break;
    case ExitKind::Unknown: f.add("abnormal"); break;
  }
  return f.hex();
}

}  // namespace crashwrap::parsers
