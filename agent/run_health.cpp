#include "agent/run_health.h"

#include <utility>

namespace crashwrap::agent {

RunHealth::RunHealth(const config::Config& config, sinks::Spool* spool, FlightRecorder* recorder,
                     std::function<void()> saved)
    : cfg_(config), spool_(spool), recorder_(recorder), saved_(std::move(saved)) {}

void RunHealth::started(parsers::Timestamp now) {
  if (sinks::check_ins_enabled(cfg_)) {
    check_in_ = sinks::new_check_in(now);
    save(sinks::check_in_item(sinks::check_in_started(cfg_, *check_in_)), "monitor", now);
  }
  if (sinks::sessions_enabled(cfg_)) {
    session_ = sinks::new_session(cfg_, now);
    if (recorder_) recorder_->set_session(session_->sid, now, session_->release, session_->environment);
    save(sinks::session_item(sinks::session_update(*session_, sinks::SessionStatus::Ok, now)), "session", now);
    last_update_ = now;
  }
}

void RunHealth::tick(parsers::Timestamp now) {
  if (!session_ || cfg_.session_update_interval.count() <= 0) return;
  if (now < last_update_) last_update_ = now;  // the clock went back: start the interval over
  if (now - last_update_ < cfg_.session_update_interval) return;
  save(sinks::session_item(sinks::session_update(*session_, sinks::SessionStatus::Ok, now)), "session", now);
  last_update_ = now;
}

void RunHealth::on_event(sinks::BuiltEvent& event) {
  if (session_) {
    ++session_->errors;
    if (recorder_) recorder_->set_session_errors(session_->errors);
  }
  if (check_in_) event.event["contexts"]["trace"] = sinks::trace_context(check_in_->trace_id);
}

std::optional<sinks::EnvelopeItem> RunHealth::finish(const sinks::SessionEnd& end, parsers::Timestamp now) {
  if (check_in_) {
    const bool ok = sinks::run_succeeded(cfg_, end.exit);
    save(sinks::check_in_item(sinks::check_in_finished(cfg_, *check_in_, ok, now)), "monitor", now);
    check_in_.reset();
  }
  if (!session_) return std::nullopt;
  const sinks::SessionStatus status = sinks::end_status(end, session_->errors);
  sinks::EnvelopeItem item = sinks::session_item(sinks::session_update(*session_, status, now));
  session_.reset();
  return item;
}

void RunHealth::save_alone(sinks::EnvelopeItem item, parsers::Timestamp now) {
  save(std::move(item), "session", now);
}

void RunHealth::save(sinks::EnvelopeItem item, const char* category, parsers::Timestamp now) {
  if (!spool_) return;
  sinks::Envelope envelope;
  envelope.header = sinks::envelope_header("", now, "");
  envelope.items.push_back(std::move(item));
  sinks::Spool::SaveInfo info;
  info.category = category;
  // "session ok", "check-in error": what `crashwrap list` shows for the entry.
  const nlohmann::json payload = nlohmann::json::parse(envelope.items[0].payload, nullptr, false);
  const bool check_in = std::string_view(category) == "monitor";
  info.summary = std::string(check_in ? "check-in " : "session ") + payload.value("status", "");
  if (spool_->save_envelope(sinks::serialize(envelope), info, now) && saved_) saved_();
}

std::optional<sinks::EnvelopeItem> RunHealth::abandoned_session(const config::Config& config,
                                                                const AbandonedRun& run) {
  sinks::Session s;
  if (!run.session_sid.empty()) {
    if (config.dsns.empty() || !config.sessions) return std::nullopt;
    s.sid = run.session_sid;
    s.did = config.session_did;
    s.release = run.session_release;
    s.environment = run.session_environment;
    s.started = run.session_started;
    s.errors = run.session_errors;
    s.init_sent = true;  // its init update was saved when that run started
  } else {
    if (!sinks::sessions_enabled(config)) return std::nullopt;
    s = sinks::new_session(config, run.started);
  }
  const parsers::Timestamp end = run.last_update > s.started ? run.last_update : s.started;
  return sinks::session_item(sinks::session_update(s, sinks::SessionStatus::Abnormal, end));
}

}  // namespace crashwrap::agent
