#include "parsers/verdict.h"

namespace crashwrap::parsers {

void Verdict::mark_handled(CrashReport& r) {
  r.level = Level::Error;
  r.handled = true;
  for (Exception& e : r.exceptions) {
    e.mechanism.handled = true;
    e.mechanism.type = "crashwrap.log";
  }
}

void Verdict::mark_fatal(CrashReport& r) {
  r.level = Level::Fatal;
  r.handled = false;
  for (Exception& e : r.exceptions) {
    e.mechanism.handled = false;
    if (e.mechanism.type.empty() || e.mechanism.type == "generic" || e.mechanism.type == "crashwrap.log")
      e.mechanism.type = "crashwrap";
  }
}

void Verdict::report_finished(CrashReport r, Timestamp now) { held_.push_back({std::move(r), now}); }

std::vector<CrashReport> Verdict::due(Timestamp now) {
  std::vector<CrashReport> out;
  while (!held_.empty() && now >= held_.front().at && now - held_.front().at >= grace_) {
    CrashReport r = std::move(held_.front().report);
    held_.pop_front();
    if (r.fatal_only) continue;
    mark_handled(r);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<CrashReport> Verdict::child_exited(const ExitInfo& exit, Timestamp) {
  std::vector<CrashReport> out;
  for (Held& h : held_) out.push_back(std::move(h.report));
  held_.clear();
  std::vector<CrashReport> kept;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i + 1 == out.size() && exit_failed(exit)) {
      mark_fatal(out[i]);
    } else {
      if (out[i].fatal_only) continue;
      mark_handled(out[i]);
    }
    kept.push_back(std::move(out[i]));
  }
  return kept;
}

std::optional<Timestamp> Verdict::next_deadline() const {
  if (held_.empty()) return std::nullopt;
  return held_.front().at + grace_;
}

}  // namespace crashwrap::parsers
