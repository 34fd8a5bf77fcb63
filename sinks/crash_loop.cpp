#include "sinks/crash_loop.h"

#include <algorithm>

#include "sinks/event_builder.h"
#include "sinks/spool.h"
#include "sinks/spool_layout.h"

namespace crashwrap::sinks {
namespace {

using nlohmann::json;
using parsers::Timestamp;

constexpr std::string_view kStateName = "crash-loop.json";
constexpr std::size_t kMaxFingerprints = 512;  // state bound: the oldest windows go first

std::int64_t to_ms(Timestamp t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
Timestamp from_ms(std::int64_t ms) {
  return Timestamp(std::chrono::duration_cast<Timestamp::duration>(std::chrono::milliseconds(ms)));
}

std::uint64_t count_of(const json& entry, const char* key) {
  auto it = entry.find(key);
  return it != entry.end() && it->is_number_integer() && it->get<std::int64_t>() > 0 ? it->get<std::uint64_t>() : 0;
}
std::int64_t start_of(const json& entry) {
  auto it = entry.find("start");
  return it != entry.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

void bound(json& state) {
  while (state.size() > kMaxFingerprints) {
    auto oldest = state.begin();
    for (auto it = state.begin(); it != state.end(); ++it)
      if (start_of(*it) < start_of(*oldest)) oldest = it;
    state.erase(oldest);
  }
}

json read_state(const Spool& spool) {
  json state = json::object();
  if (auto text = spool.read_state(kStateName)) {
    state = json::parse(*text, nullptr, false);
    if (!state.is_object()) state = json::object();
  }
  return state;
}

std::string format_window(std::chrono::milliseconds w) {
  const auto ms = w.count();
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace

CrashLoopVerdict CrashLoopPolicy::admit(json& state, const std::string& fingerprint, const std::string& title,
                                        Timestamp now) const {
  CrashLoopVerdict v;
  if (!enabled()) return v;
  if (!state.is_object()) state = json::object();
  json& entry = state[fingerprint];
  const std::int64_t now_ms = to_ms(now);
  const bool fresh = !entry.is_object() || now_ms - start_of(entry) >= window_.count();
  if (fresh) {
    v.carried = entry.is_object() ? count_of(entry, "suppressed") : 0;
    entry = json{{"start", now_ms}, {"saved", 1}, {"suppressed", 0}, {"title", title}};
    v.in_window = 1;
    bound(state);
    return v;
  }
  const std::uint64_t saved = count_of(entry, "saved");
  const std::uint64_t suppressed = count_of(entry, "suppressed");
  v.in_window = saved + suppressed + 1;
  if (saved < limit_) {
    entry["saved"] = saved + 1;
  } else {
    entry["suppressed"] = suppressed + 1;
    v.keep = false;
  }
  return v;
}

std::vector<CrashLoopSummary> CrashLoopPolicy::take_ended(json& state, Timestamp now) const {
  std::vector<CrashLoopSummary> out;
  if (!state.is_object()) {
    state = json::object();
    return out;
  }
  const std::int64_t now_ms = to_ms(now);
  for (auto it = state.begin(); it != state.end();) {
    const std::int64_t start = start_of(*it);
    if (!enabled() || now_ms - start >= window_.count()) {
      if (const std::uint64_t n = count_of(*it, "suppressed"); n > 0) {
        auto title = it->find("title");
        out.push_back({it.key(), title != it->end() && title->is_string() ? title->get<std::string>() : "",
                       n, from_ms(start), from_ms(start + window_.count())});
      }
      it = state.erase(it);
    } else {
      ++it;
    }
  }
  std::sort(out.begin(), out.end(),
            [](const CrashLoopSummary& a, const CrashLoopSummary& b) { return a.window_start < b.window_start; });
  return out;
}

CrashLoopUpdate crash_loop_admit(Spool& spool, const CrashLoopPolicy& policy, const std::string& fingerprint,
                                 const std::string& title, Timestamp now) {
  CrashLoopUpdate u;
  if (!policy.enabled()) return u;
  layout::FileLock lock(spool.dir() + "/spool.lock");
  json state = read_state(spool);
  u.verdict = policy.admit(state, fingerprint, title, now);
  u.ended = policy.take_ended(state, now);
  if (!spool.write_state(kStateName, state.dump())) {
    u.verdict.keep = true;  // not counted: keep it rather than lose it
    u.ended.clear();        // not removed from the state: a later run claims them
  }
  return u;
}

std::vector<CrashLoopSummary> crash_loop_take_ended(Spool& spool, const CrashLoopPolicy& policy, Timestamp now) {
  layout::FileLock lock(spool.dir() + "/spool.lock");
  json state = read_state(spool);
  if (state.empty()) return {};
  auto ended = policy.take_ended(state, now);
  if (ended.empty()) return ended;
  if (!spool.write_state(kStateName, state.dump())) return {};
  return ended;
}

void add_suppressed_count(BuiltEvent& event, std::uint64_t count) {
  if (count == 0) return;
  json& e = event.event;
  if (!e.contains("extra") || !e["extra"].is_object()) e["extra"] = json::object();
  e["extra"]["crashwrap.suppressed"] = count;
  if (!e.contains("tags") || !e["tags"].is_object()) e["tags"] = json::object();
  e["tags"]["crashwrap.crash_loop"] = "suppressed";
}

BuiltEvent crash_loop_summary_event(const config::Config& cfg, const CrashLoopSummary& s, Timestamp now) {
  BuiltEvent b;
  b.event_id = new_event_id();
  b.fingerprint = s.fingerprint;
  const std::string what = s.title.empty() ? "this crash" : "\"" + s.title + "\"";
  b.title = "crash loop: " + std::to_string(s.suppressed) + " more events like " + what + " were not sent";
  json tags = json::object();
  tags["crashwrap.fingerprint"] = s.fingerprint;
  tags["crashwrap.crash_loop"] = "summary";
  for (const auto& [k, v] : cfg.tags) tags[k] = v;
  b.event = {{"event_id", b.event_id},
             {"timestamp", format_rfc3339(now)},
             {"platform", "native"},
             {"level", "warning"},
             {"logger", "crashwrap"},
             {"sdk", {{"name", "crashwrap"}, {"version", CRASHWRAP_VERSION}}},
             {"logentry",
              {{"formatted", b.title + " (over --crash-loop-limit " + std::to_string(cfg.crash_loop_limit) +
                                 " per " + format_window(cfg.crash_loop_window) + ")"}}},
             {"tags", std::move(tags)},
             {"extra",
              {{"crashwrap.suppressed", s.suppressed},
               {"crashwrap.window_start", format_rfc3339(s.window_start)},
               {"crashwrap.window_end", format_rfc3339(s.window_end)}}},
             {"fingerprint", json::array({"crashwrap-crash-loop", s.fingerprint})}};
  if (!cfg.server_name.empty()) b.event["server_name"] = cfg.server_name;
  if (!cfg.release.empty()) b.event["release"] = cfg.release;
  if (!cfg.environment.empty()) b.event["environment"] = cfg.environment;
  return b;
}

}  // namespace crashwrap::sinks
