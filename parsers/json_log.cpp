// Structured logs: one JSON object per line whose fields carry a stack trace
// as text (pino/bunyan "err.stack", winston "stack", python-json-logger
// "exc_info", structlog "exception", logstash-logback-encoder "stack_trace",
// ECS "error.stack_trace", OpenTelemetry "exception.stacktrace", zap
// "stacktrace", Serilog "Exception"/"@x", …). The embedded text is split into
// lines and parsed by every other detector; the log's own fields become tags
// (level, logger, service, host) and extra (message, time, the rest).
#include <algorithm>
#include <memory>
#include <simdjson.h>

#include "parsers/detectors.h"
#include "parsers/registry.h"
#include "parsers/text.h"

namespace crashwrap::parsers {
namespace {

using text::starts_with;

constexpr std::size_t kMaxPrefix = 64;          // bytes before '{' (a timestamp, a container prefix)
constexpr std::size_t kMaxEmbeddedLines = 5000;
constexpr std::size_t kMaxEmbeddedLine = 16 * 1024;
constexpr std::size_t kMaxExtra = 32;
constexpr std::size_t kMaxExtraValue = 1024;
constexpr std::size_t kMaxRaw = 64 * 1024;

// Field names (lower case, last component of a dotted path) that hold a stack trace.
constexpr std::string_view kStackKeys[] = {
    "stack", "stack_trace", "stacktrace", "exc_info", "exception", "exc_text", "traceback", "backtrace",
    "error_stack", "err_stack", "full_message", "@x", "extendedstacktrace", "trace",
};
// Objects whose members may hold the stack and the error's type and message.
constexpr std::string_view kErrorObjects[] = {"error", "err", "exception", "exc", "thrown", "throwable", "e",
                                              "attributes", "fields", "context", "data", "payload"};
constexpr std::string_view kLevelKeys[] = {"level",     "severity", "lvl",      "levelname",
                                          "log.level", "@l",       "loglevel", "severity_text"};
constexpr std::string_view kLoggerKeys[] = {"logger", "logger_name", "loggername", "log.logger", "name", "category"};
constexpr std::string_view kServiceKeys[] = {"service", "service.name", "resource.service.name", "app", "application",
                                            "component"};
constexpr std::string_view kHostKeys[] = {"hostname", "host", "host.name"};
constexpr std::string_view kMessageKeys[] = {"msg", "message", "@m", "@mt", "body"};
constexpr std::string_view kTypeKeys[] = {"type", "name", "class", "kind", "exception.type", "error.type"};
constexpr std::string_view kValueKeys[] = {"message", "msg", "exception.message", "error.message"};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool one_of(std::string_view key, const auto& list) { return std::find(std::begin(list), std::end(list), key) != std::end(list); }

std::string_view last_component(std::string_view key) {
  auto dot = key.rfind('.');
  return dot == std::string_view::npos ? key : key.substr(dot + 1);
}

// Replaces invalid UTF-8 sequences with U+FFFD so that the log line still parses.
std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = n > 0 && i + n <= s.size();
    for (std::size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) >> 6) == 2;
    if (ok && n == 2) ok = c >= 0xc2;
    if (ok) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out.append("\xef\xbf\xbd");
      ++i;
    }
  }
  return out;
}

std::string scalar_text(simdjson::dom::element v) {
  switch (v.type()) {
    case simdjson::dom::element_type::STRING: return std::string(v.get_string().value_unsafe());
    case simdjson::dom::element_type::INT64: return std::to_string(v.get_int64().value_unsafe());
    case simdjson::dom::element_type::UINT64: return std::to_string(v.get_uint64().value_unsafe());
    case simdjson::dom::element_type::DOUBLE: return simdjson::to_string(v);
    case simdjson::dom::element_type::BOOL: return v.get_bool().value_unsafe() ? "true" : "false";
    default: return {};
  }
}

// pino/bunyan numeric levels and the usual names, as Sentry spells them.
std::string level_name(simdjson::dom::element v) {
  if (v.is_int64() || v.is_uint64() || v.is_double()) {
    double n = v.is_double() ? v.get_double().value_unsafe() : static_cast<double>(v.get_int64().value_unsafe());
    return n <= 10 ? "trace" : n <= 20 ? "debug" : n <= 30 ? "info" : n <= 40 ? "warning" : n <= 50 ? "error" : "fatal";
  }
  std::string s = lower(scalar_text(v));
  if (s == "warn") return "warning";
  if (s == "err") return "error";
  if (s == "crit" || s == "critical" || s == "emerg" || s == "alert" || s == "panic") return "fatal";
  return s;
}

// What one log line offers: candidate stack texts (best first) and its context fields.
struct LogFields {
  struct Candidate {
    std::string text;
    int rank = 0;  // lower is better
  };
  std::vector<Candidate> stacks;
  std::string error_type, error_value;
  std::vector<std::pair<std::string, std::string>> tags, extra;
};

// True when the field became a tag (it is then not repeated in extra).
bool note_tag(LogFields& out, std::string_view key, simdjson::dom::element v) {
  std::string k = lower(key);
  std::string_view tag;
  if (one_of(k, kLevelKeys)) {
    out.tags.emplace_back("log.level", level_name(v));
    return true;
  }
  if (!v.is_string()) return false;
  if (one_of(k, kLoggerKeys)) tag = "logger";
  else if (one_of(k, kServiceKeys)) tag = "service";
  else if (one_of(k, kHostKeys)) tag = "host";
  else return false;
  out.tags.emplace_back(std::string(tag), scalar_text(v));
  return true;
}

void note_extra(LogFields& out, const std::string& path, simdjson::dom::element v) {
  if (out.extra.size() >= kMaxExtra) return;
  std::string s = scalar_text(v);
  if (s.empty() && !v.is_string()) return;
  if (s.size() > kMaxExtraValue) s.resize(kMaxExtraValue);
  std::string k = lower(last_component(path));
  std::string name = one_of(k, kMessageKeys) && path.find('.') == std::string::npos ? "log.message" : "log." + path;
  out.extra.emplace_back(std::move(name), std::move(s));
}

void scan(simdjson::dom::object obj, const std::string& prefix, int depth, bool in_error, LogFields& out);

// The error's type and message, from an error object ("err": {"type", "message"}) or OTel/ECS dotted keys.
void note_error(std::string_view k, std::string_view s, bool in_error, LogFields& out) {
  bool dotted_type = k == "exception.type" || k == "error.type" || k == "error.kind";
  bool dotted_value = k == "exception.message" || k == "error.message";
  if ((in_error && one_of(last_component(k), kTypeKeys)) || dotted_type) {
    if (out.error_type.empty() || dotted_type) out.error_type = std::string(s);
  }
  if ((in_error && one_of(last_component(k), kValueKeys)) || dotted_value) {
    if (out.error_value.empty() || dotted_value) out.error_value = std::string(s);
  }
}

void scan_member(std::string_view key, simdjson::dom::element v, const std::string& prefix, int depth, bool in_error,
                 LogFields& out) {
  std::string path = prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
  std::string k = lower(key);
  if (v.is_object()) {
    bool error_object = one_of(k, kErrorObjects);
    if (depth == 0 || (depth == 1 && error_object))
      scan(v.get_object().value_unsafe(), path, depth + 1, in_error || error_object, out);
    return;
  }
  if (v.is_string()) {
    std::string_view s = v.get_string().value_unsafe();
    std::string_view last = last_component(k);
    bool multi_line = s.find('\n') != std::string_view::npos;
    if (multi_line && one_of(last, kStackKeys)) {
      out.stacks.push_back({std::string(s), depth});
      return;  // the trace itself becomes the event's exception
    }
    if (multi_line && (one_of(last, kMessageKeys) || last == "error" || last == "err"))
      out.stacks.push_back({std::string(s), 10 + depth});
    note_error(k, s, in_error, out);
    if (depth == 0 && (k == "error" || k == "err") && !multi_line && out.error_value.empty())
      out.error_value = std::string(s);  // zap/logrus: "error": "open /x: no such file"
  }
  // Context fields at the top, or nested under their dotted name (ECS "log": {"level"}, OTel "resource").
  if (!in_error && depth <= 2 && note_tag(out, depth == 0 ? std::string(key) : path, v)) return;
  if (!v.is_array()) note_extra(out, path, v);
}

void scan(simdjson::dom::object obj, const std::string& prefix, int depth, bool in_error, LogFields& out) {
  for (auto field : obj) scan_member(field.key, field.value, prefix, depth, in_error, out);
}

// Go stacks logged without the runtime's panic header: debug.Stack() output
// ("goroutine 7 [running]:" first) or bare frame pairs (zap: "main.run\n\t/app/main.go:12").
enum class GoStack { None, Dump, Frames };

GoStack go_stack_shape(std::string_view s) {
  auto nl = s.find('\n');
  if (nl == std::string_view::npos) return GoStack::None;
  std::string_view first = s.substr(0, nl);
  if (starts_with(first, "goroutine ") && text::ends_with(first, "]:")) return GoStack::Dump;
  bool frames = !first.empty() && first.find(' ') == std::string_view::npos && s.substr(nl + 1, 1) == "\t";
  return frames ? GoStack::Frames : GoStack::None;
}

// ---- lines that are not complete JSON -------------------------------------------------

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

std::optional<std::uint32_t> hex4(std::string_view s, std::size_t at) {
  if (at + 4 > s.size() || !text::is_hex(s.substr(at, 4))) return std::nullopt;
  std::uint32_t v = 0;
  for (char c : s.substr(at, 4)) v = v * 16 + static_cast<std::uint32_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  return v;
}

// A JSON string's content from `at` (after its opening quote) to its closing
// quote, or to the end of `s` when the line was cut before it.
std::string unescape_from(std::string_view s, std::size_t at) {
  std::string out;
  for (std::size_t i = at; i < s.size() && s[i] != '"'; ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out.push_back(s[i]);
      continue;
    }
    char e = s[++i];
    switch (e) {
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case 'r': out.push_back('\r'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'u': {
        auto cp = hex4(s, i + 1);
        if (!cp) return out;
        i += 4;
        if (*cp >= 0xd800 && *cp < 0xdc00 && s.substr(i + 1, 2) == "\\u") {
          if (auto lo = hex4(s, i + 3); lo && *lo >= 0xdc00 && *lo < 0xe000) {
            *cp = 0x10000 + ((*cp - 0xd800) << 10) + (*lo - 0xdc00);
            i += 6;
          }
        }
        append_utf8(out, (*cp >= 0xd800 && *cp < 0xe000) ? 0xfffd : *cp);
        break;
      }
      default: out.push_back(e);  // \" \\ \/
    }
  }
  return out;
}

// The multi-line string values under stack keys, found by their key alone:
// for a line cut at the analysis cap (a long Java trace) or not quite JSON.
// The start of a trace (header, newest frames) is worth having.
std::optional<LogFields> salvage(std::string_view t) {
  std::string low = lower(t);
  LogFields fields;
  int rank = 0;
  for (std::string_view key : kStackKeys) {
    ++rank;
    std::string quoted = "\"" + std::string(key) + "\"";
    for (std::size_t at = low.find(quoted); at != std::string::npos; at = low.find(quoted, at + 1)) {
      std::size_t i = at + quoted.size();
      while (i < t.size() && t[i] == ' ') ++i;
      if (i >= t.size() || t[i] != ':') continue;
      ++i;
      while (i < t.size() && t[i] == ' ') ++i;
      if (i >= t.size() || t[i] != '"') continue;
      std::string value = unescape_from(t, i + 1);
      if (value.find('\n') != std::string::npos) fields.stacks.push_back({std::move(value), rank});
    }
  }
  if (fields.stacks.empty()) return std::nullopt;
  std::stable_sort(fields.stacks.begin(), fields.stacks.end(),
                   [](const LogFields::Candidate& a, const LogFields::Candidate& b) { return a.rank < b.rank; });
  fields.extra.emplace_back("log.partial", "true");
  return fields;
}

class JsonLogDetector final : public Detector {
 public:
  std::string_view name() const noexcept override { return "json"; }
  std::span<const std::string_view> anchors() const noexcept override { return kAnchors; }
  std::optional<std::uint64_t> active_since(Stream) const noexcept override { return std::nullopt; }
  void flush(Timestamp, std::chrono::milliseconds, std::vector<CrashReport>&) override {}
  void finish(std::vector<CrashReport>&) override {}

  void feed(const Line& line, std::vector<CrashReport>& out) override {
    std::string_view t = text::trim(line.text);
    std::size_t open = t.find('{');
    if (open == std::string_view::npos || open > kMaxPrefix) return;
    t = t.substr(open);
    if (text::find(t, "\\n") == std::string_view::npos) return;  // a stack in JSON always has an escaped newline
    std::optional<LogFields> fields;
    if (line.cut_bytes == 0 && t.back() == '}') fields = parse(t);
    if (!fields) fields = salvage(t);
    if (!fields || fields->stacks.empty()) return;
    std::optional<CrashReport> r = report_from(*fields, line);
    if (!r) return;
    r->raw = std::string(line.text.substr(0, kMaxRaw));
    r->stream = line.stream;
    r->first_line = r->last_line = line.number;
    r->first_time = r->last_time = line.time;
    for (auto& tag : fields->tags) r->tags.push_back(std::move(tag));
    for (auto& x : fields->extra) r->extra.push_back(std::move(x));
    out.push_back(std::move(*r));
  }

 private:
  static constexpr std::string_view kAnchors[] = {
      "\"stack", "\"Stack", "\"exc_info", "\"exc_text", "\"exception", "\"Exception", "\"error", "\"err\"",
      "\"trace", "\"backtrace", "\"@x\"", "\"full_message", "\"thrown", "\"traceback",
      // A trace escaped into any string field ("message" of Google Cloud's structured logs, …).
      "Traceback (most recent call last):\\n", "\\n    at ", "\\n\\tat ", "\\n   at ", "\\n\\tfrom ", "\\ngoroutine ",
      "Stack trace:\\n",
  };

  std::optional<LogFields> parse(std::string_view json) {
    simdjson::dom::element doc;
    auto error = parser_.parse(json.data(), json.size(), true).get(doc);
    std::string repaired;
    if (error == simdjson::UTF8_ERROR) {
      repaired = valid_utf8(json);
      error = parser_.parse(repaired.data(), repaired.size(), true).get(doc);
    }
    if (error || !doc.is_object()) return std::nullopt;
    LogFields fields;
    scan(doc.get_object().value_unsafe(), "", 0, false, fields);
    std::stable_sort(fields.stacks.begin(), fields.stacks.end(),
                     [](const LogFields::Candidate& a, const LogFields::Candidate& b) { return a.rank < b.rank; });
    return fields;
  }

  std::optional<CrashReport> report_from(const LogFields& f, const Line& line) {
    for (const LogFields::Candidate& c : f.stacks) {
      if (auto r = parse_embedded(c.text, line)) return r;
      // A bare stack whose header is in sibling fields ("type"/"message"): give it its header back.
      if (!f.error_type.empty()) {
        std::string header = f.error_type + (f.error_value.empty() ? "" : ": " + f.error_value);
        if (auto r = parse_embedded(header + "\n" + c.text, line)) return r;
      }
      if (GoStack shape = go_stack_shape(c.text); shape != GoStack::None) return go_frames(f, c.text, shape, line);
    }
    return std::nullopt;
  }

  // zap/logrus stacks are Go frames without the runtime's header.
  std::optional<CrashReport> go_frames(const LogFields& f, const std::string& stack, GoStack shape, const Line& line) {
    std::string header = "panic: " + (f.error_value.empty() ? std::string("error") : f.error_value) + "\n\n";
    if (shape == GoStack::Frames) header += "goroutine 1 [running]:\n";
    auto r = parse_embedded(header + stack, line);
    if (!r || r->exceptions.empty()) return std::nullopt;
    Exception& e = r->exceptions.back();
    e.type = f.error_type.empty() ? "error" : f.error_type;
    e.mechanism.type = "logged";
    if (f.error_value.empty()) e.value.reset();
    return r;
  }

  std::optional<CrashReport> parse_embedded(std::string_view stack, const Line& outer) {
    if (!inner_) inner_.emplace(Registry::all_except("json"));
    std::vector<CrashReport> found;
    std::uint64_t number = 0;
    for (std::size_t pos = 0; pos <= stack.size() && number < kMaxEmbeddedLines;) {
      std::size_t end = std::min(stack.find('\n', pos), stack.size());
      std::string_view text = stack.substr(pos, end - pos);
      if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
      Line l;
      l.stream = outer.stream;
      l.time = outer.time;
      l.number = ++number;
      l.cut_bytes = text.size() > kMaxEmbeddedLine ? text.size() - kMaxEmbeddedLine : 0;
      l.text = text.substr(0, kMaxEmbeddedLine);
      inner_->feed(l, found);
      pos = end + 1;
    }
    inner_->finish(found);
    if (found.empty()) return std::nullopt;
    auto frames = [](const CrashReport& r) {
      std::size_t n = 0;
      for (const Exception& e : r.exceptions) n += e.stacktrace.frames.size();
      return n;
    };
    auto best = std::max_element(found.begin(), found.end(),
                                 [&](const CrashReport& a, const CrashReport& b) { return frames(a) < frames(b); });
    return std::move(*best);
  }

  simdjson::dom::parser parser_;
  std::optional<Registry> inner_;
};

}  // namespace

std::unique_ptr<Detector> make_json_log_detector() { return std::make_unique<JsonLogDetector>(); }

}  // namespace crashwrap::parsers
