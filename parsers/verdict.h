// Decides what a finished crash report means once the child's fate is known:
// a report followed by a failing exit within the grace period is the fatal,
// unhandled crash of the run; a report the child outlived is a handled error
// it logged. Pure policy: the clock is passed in; a clock that goes backwards
// only delays a decision. Event loop only.
#pragma once

#include <chrono>
#include <deque>
#include <optional>
#include <vector>

#include "parsers/model.h"

namespace crashwrap::parsers {

class Verdict {
 public:
  explicit Verdict(std::chrono::milliseconds grace) : grace_(grace) {}

  void report_finished(CrashReport r, Timestamp now);
  // Reports the child outlived by the grace period: level error, handled,
  // mechanism "crashwrap.log". Oldest first. A fatal_only report is dropped
  // here and wherever it would otherwise become a handled error.
  std::vector<CrashReport> due(Timestamp now);
  // Every report still held. When the exit failed (not Clean) the last one is
  // level fatal and unhandled; the others are handled errors.
  std::vector<CrashReport> child_exited(const ExitInfo& exit, Timestamp now);
  // When due() will next have something to hand out.
  std::optional<Timestamp> next_deadline() const;

  static bool exit_failed(const ExitInfo& exit) noexcept { return exit.kind != ExitKind::Clean; }
  static void mark_handled(CrashReport& r);
  static void mark_fatal(CrashReport& r);

 private:
  struct Held {
    CrashReport report;
    Timestamp at;
  };
  std::chrono::milliseconds grace_;
  std::deque<Held> held_;
};

}  // namespace crashwrap::parsers
