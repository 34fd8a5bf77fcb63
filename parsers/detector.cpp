#include "parsers/detector.h"

#include <algorithm>

#include "parsers/text.h"

namespace crashwrap::parsers {

// ---- Builder -----------------------------------------------------------------

Exception& Builder::add_exception(std::string type, std::optional<std::string> value, std::string module) {
  Exception& e = report.exceptions.emplace_back();
  e.type = std::move(type);
  e.value = std::move(value);
  e.module = std::move(module);
  frames_to_thread = false;
  return e;
}

Exception* Builder::current_exception() noexcept {
  return report.exceptions.empty() ? nullptr : &report.exceptions.back();
}

Thread& Builder::add_thread(std::string id, std::string name) {
  Thread& t = report.threads.emplace_back();
  t.id = std::move(id);
  t.name = std::move(name);
  frames_to_thread = true;
  return t;
}

Thread* Builder::current_thread() noexcept { return report.threads.empty() ? nullptr : &report.threads.back(); }

void Builder::add_frame(Frame&& f) {
  std::vector<Frame>* frames = nullptr;
  if (frames_to_thread) {
    if (Thread* t = current_thread()) frames = &t->stacktrace.frames;
  } else if (Exception* e = current_exception()) {
    frames = &e->stacktrace.frames;
  }
  if (frames == nullptr) return;
  if (frames->size() >= max_frames) {
    ++dropped_frames;
    return;
  }
  // Most stacks hold a handful of frames: room for eight at once saves the
  // first three reallocations, each of which moves every (large) Frame.
  if (frames->empty()) frames->reserve(8);
  frames->push_back(std::move(f));
}

void Builder::append_value(std::string_view more) {
  Exception* e = current_exception();
  if (e == nullptr) return;
  if (!e->value) e->value.emplace();
  if (!e->value->empty()) e->value->push_back('\n');
  e->value->append(more);
}

// ---- TableDetector ------------------------------------------------------------

TableDetector::TableDetector(Spec spec) : spec_(std::move(spec)) {
  for (std::size_t i = 0; i < spec_.rules.size(); ++i) {
    int from = spec_.rules[i].from;
    if (from < 0) continue;
    if (by_state_.size() <= static_cast<std::size_t>(from)) by_state_.resize(static_cast<std::size_t>(from) + 1);
    by_state_[static_cast<std::size_t>(from)].push_back(i);
  }
}

std::optional<std::uint64_t> TableDetector::active_since(Stream stream) const noexcept {
  const PerStream& ps = streams_[stream == Stream::Stdout ? 0 : 1];
  if (ps.state == kStart) return std::nullopt;
  return ps.builder.report.first_line;
}

const Rule* TableDetector::match(int state, std::string_view text, const Builder& b) const noexcept {
  if (state < 0 || static_cast<std::size_t>(state) >= by_state_.size()) return nullptr;
  for (std::size_t i : by_state_[static_cast<std::size_t>(state)]) {
    const Rule& r = spec_.rules[i];
    if (r.match(text) && (r.guard == nullptr || r.guard(b, text))) return &r;
  }
  return nullptr;
}

bool TableDetector::tolerant(int state) const noexcept {
  return std::find(spec_.tolerant_states.begin(), spec_.tolerant_states.end(), state) !=
         spec_.tolerant_states.end();
}

bool TableDetector::try_start(PerStream& ps, const Line& line, std::string_view text,
                              std::vector<CrashReport>& out) {
  if (const Rule* r = match(kStart, text, ps.builder)) {
    ps.prefix_shape.clear();
    take(ps, *r, line, text, out);
    return true;
  }
  // A logging framework may put a prefix ("2024-05-01 10:00:00 ERROR [main] ")
  // in front of the report: retry at the start of the word that holds an
  // anchor, and strip a prefix of the same shape from the lines that follow.
  for (std::string_view anchor : spec_.anchors) {
    std::size_t pos = text::find(text, anchor);
    if (pos == std::string_view::npos || pos == 0) continue;
    std::size_t start = pos;
    while (start > 0 && text[start - 1] != ' ' && text[start - 1] != '\t') --start;
    if (start == 0) continue;
    std::string_view rest = text.substr(start);
    if (const Rule* r = match(kStart, rest, ps.builder)) {
      ps.prefix_shape = text::shape(text.substr(0, start));
      take(ps, *r, line, rest, out);
      return true;
    }
  }
  return false;
}

void TableDetector::take(PerStream& ps, const Rule& rule, const Line& line, std::string_view text,
                         std::vector<CrashReport>& out) {
  CrashReport& r = ps.builder.report;
  if (ps.state == kStart) {
    r.runtime = spec_.runtime;
    r.platform = spec_.platform;
    r.stream = line.stream;
    r.first_line = line.number;
    r.first_time = line.time;
    ps.lines = 0;
    ps.skipped = 0;
  }
  if (ps.lines < spec_.max_lines) {
    if (r.raw.size() + text.size() + 1 <= spec_.max_raw_bytes) {
      if (!r.raw.empty()) r.raw.push_back('\n');
      r.raw.append(text);
    }
    if (rule.apply) rule.apply(ps.builder, text);
  }
  ++ps.lines;
  r.last_line = line.number;
  r.last_time = line.time;
  ps.last = line.time;
  if (rule.to == kEmit)
    end(ps, out);
  else
    ps.state = rule.to;
}

void TableDetector::end(PerStream& ps, std::vector<CrashReport>& out) {
  CrashReport r = std::move(ps.builder.report);
  ps.builder = Builder{};
  ps.state = kStart;
  ps.prefix_shape.clear();
  ps.lines = 0;
  ps.skipped = 0;
  if (spec_.finalize && !spec_.finalize(r)) return;
  if (r.exceptions.empty() && r.threads.empty()) return;
  out.push_back(std::move(r));
}

void TableDetector::feed(const Line& line, std::vector<CrashReport>& out) {
  PerStream& ps = of(line.stream);
  std::string cleaned;
  std::string_view text = line.text;
  if (text::has_escape(text)) {
    cleaned = text::strip_ansi(text);
    text = cleaned;
  }
  if (ps.state == kStart) {
    try_start(ps, line, text, out);
    return;
  }
  std::string_view body = text;
  if (!ps.prefix_shape.empty() && text::same_shape(text, ps.prefix_shape)) body = text.substr(ps.prefix_shape.size());
  if (const Rule* r = match(ps.state, body, ps.builder)) {
    ps.skipped = 0;
    take(ps, *r, line, body, out);
    return;
  }
  // A line that could start a report is never skipped: back-to-back reports stay apart.
  if (tolerant(ps.state) && ps.skipped < spec_.tolerance && match(kStart, body, ps.builder) == nullptr) {
    ++ps.skipped;
    return;
  }
  end(ps, out);
  // The line that ended a report may start the next one: re-fed once.
  try_start(ps, line, text, out);
}

void TableDetector::flush(Timestamp now, std::chrono::milliseconds quiet, std::vector<CrashReport>& out) {
  for (PerStream& ps : streams_) {
    if (ps.state == kStart) continue;
    if (now >= ps.last && now - ps.last >= quiet) end(ps, out);  // a clock that went back is not quiet
  }
}

void TableDetector::finish(std::vector<CrashReport>& out) {
  for (PerStream& ps : streams_)
    if (ps.state != kStart) end(ps, out);
}

}  // namespace crashwrap::parsers
