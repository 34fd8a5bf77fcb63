#include "sinks/protection.h"

#include "agent/diag.h"
#include "sinks/spool.h"

namespace crashwrap::sinks {

bool is_fatal(const BuiltEvent& event) {
  const auto ex = event.event.find("exception");
  if (ex == event.event.end() || !ex->is_object()) return false;
  const auto values = ex->find("values");
  if (values == ex->end() || !values->is_array()) return false;
  for (const auto& v : *values) {
    const auto m = v.find("mechanism");
    if (m == v.end() || !m->is_object()) continue;
    const auto handled = m->find("handled");
    if (handled != m->end() && handled->is_boolean() && !handled->get<bool>()) return true;
  }
  return false;
}

Protection::Protection(const config::Config& config)
    : cfg_(config), scrubber_(Scrubber::from(config)), crash_loop_(config), rng_(std::random_device{}()) {}

const parsers::Line& Protection::kept_line(const parsers::Line& line) {
  if (!scrubber_.has_secrets(line.text)) return line;
  line_text_.assign(line.text);
  scrubber_.scrub(line_text_);
  line_ = line;
  line_.text = line_text_;
  return line_;
}

bool Protection::sampled_out(const BuiltEvent& event) {
  if (cfg_.sample_rate >= 1.0 || is_fatal(event)) return false;
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_) >= cfg_.sample_rate;
}

std::optional<BuiltEvent> Protection::admit(const BuiltEvent& event, Spool& spool, parsers::Timestamp now) {
  if (sampled_out(event)) {
    spool.add_discarded("sample_rate", event.category, 1);
    return std::nullopt;
  }
  std::uint64_t carried = 0;
  if (crash_loop_.enabled() && !event.fingerprint.empty()) {
    CrashLoopUpdate u = crash_loop_admit(spool, crash_loop_, event.fingerprint, event.title, now);
    save_summaries(spool, u.ended, now);
    if (!u.verdict.keep) {
      held_back_ = event.event_id;
      if (!told_suppressed_ && !is_fatal(event)) {  // a fatal one is told by the run's summary line
        told_suppressed_ = true;
        agent::diag::crash_loop_suppressed(event.title, u.verdict.in_window, cfg_.crash_loop_limit);
      }
      return std::nullopt;
    }
    carried = u.verdict.carried;
  }
  std::optional<BuiltEvent> kept(event);
  add_suppressed_count(*kept, carried);
  scrubber_.scrub_event(*kept);
  return kept;
}

std::size_t Protection::save_ended_windows(Spool& spool, parsers::Timestamp now) {
  if (!crash_loop_.enabled()) return 0;
  return save_summaries(spool, crash_loop_take_ended(spool, crash_loop_, now), now);
}

std::size_t Protection::save_summaries(Spool& spool, const std::vector<CrashLoopSummary>& ended,
                                       parsers::Timestamp now) {
  std::size_t saved = 0;
  for (const CrashLoopSummary& s : ended) {
    BuiltEvent summary = crash_loop_summary_event(cfg_, s, now);
    scrubber_.scrub_event(summary);
    if (spool.save(summary, now)) ++saved;
  }
  return saved;
}

}  // namespace crashwrap::sinks
