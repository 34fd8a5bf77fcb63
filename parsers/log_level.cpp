#include "parsers/log_level.h"

#include <simdjson.h>

#include <array>
#include <charconv>

namespace crashwrap::parsers {
namespace {

using Type = LogAttribute::Type;

constexpr std::size_t kMaxDepth = 4;           // nested JSON objects flattened this deep
constexpr std::size_t kTextScanBytes = 160;    // a level prefix lies within this
constexpr int kTextScanTokens = 6;

char lower_ascii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t'; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower_ascii(a[i]) != b[i]) return false;
  return true;
}

template <std::size_t N>
bool one_of(std::string_view key, const std::array<std::string_view, N>& names) {
  for (std::string_view n : names)
    if (iequals(key, n)) return true;
  return false;
}

constexpr std::array<std::string_view, 7> kLevelKeys = {"level",    "severity", "lvl",  "loglevel",
                                                        "levelname", "log.level", "@l"};
constexpr std::array<std::string_view, 5> kBodyKeys = {"msg", "message", "body", "@m", "@mt"};

std::optional<LogLevel> level_from_number(double n) {
  if (n < 0) return std::nullopt;
  if (n <= 7) {  // syslog severities
    return n <= 2 ? LogLevel::Fatal : n <= 3 ? LogLevel::Error : n <= 4 ? LogLevel::Warn
           : n <= 6 ? LogLevel::Info : LogLevel::Debug;
  }
  // pino / bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal
  return n <= 10 ? LogLevel::Trace : n <= 20 ? LogLevel::Debug : n <= 30 ? LogLevel::Info
         : n <= 40 ? LogLevel::Warn : n <= 50 ? LogLevel::Error : LogLevel::Fatal;
}

std::optional<LogLevel> level_from_json(simdjson::dom::element v) {
  switch (v.type()) {
    case simdjson::dom::element_type::STRING: return log_level_from_word(v.get_string().value_unsafe());
    case simdjson::dom::element_type::INT64:
      return level_from_number(static_cast<double>(v.get_int64().value_unsafe()));
    case simdjson::dom::element_type::UINT64:
      return level_from_number(static_cast<double>(v.get_uint64().value_unsafe()));
    case simdjson::dom::element_type::DOUBLE: return level_from_number(v.get_double().value_unsafe());
    default: return std::nullopt;
  }
}

void append_number(std::string& out, std::int64_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, static_cast<std::size_t>(end - buf));
}

// ---- text prefixes ----

bool is_upper_word(std::string_view w) {
  if (w.size() < 3) return false;
  for (char c : w)
    if (!(c >= 'A' && c <= 'Z')) return false;
  return true;
}

// syslog "<PRI>": severity = PRI % 8.
std::optional<LogLevel> syslog_prefix(std::string_view s) {
  if (s.size() < 3 || s[0] != '<') return std::nullopt;
  int pri = 0;
  std::size_t i = 1;
  for (; i < s.size() && i <= 3 && is_digit(s[i]); ++i) pri = pri * 10 + (s[i] - '0');
  if (i == 1 || i >= s.size() || s[i] != '>' || pri > 191) return std::nullopt;
  return level_from_number(pri % 8);
}

// glog / absl: "W1123 12:00:00.000000  1234 file.cc:12] …"
std::optional<LogLevel> glog_prefix(std::string_view s) {
  if (s.size() < 9 || s[5] != ' ' || s[8] != ':') return std::nullopt;
  for (std::size_t i : {1, 2, 3, 4, 6, 7})
    if (!is_digit(s[i])) return std::nullopt;
  switch (s[0]) {
    case 'I': return LogLevel::Info;
    case 'W': return LogLevel::Warn;
    case 'E': return LogLevel::Error;
    case 'F': return LogLevel::Fatal;
    default: return std::nullopt;
  }
}

// A token before the level: a timestamp, a pid, a [thread], a separator.
bool is_metadata(std::string_view t) {
  if (t.empty()) return true;
  if (t.front() == '[' || t.front() == '(' || t.back() == ']' || t.back() == ')') return true;
  if (t.size() == 1 && !(t[0] >= 'A' && t[0] <= 'Z') && !(t[0] >= 'a' && t[0] <= 'z')) return true;
  for (char c : t)
    if (is_digit(c)) return true;
  return false;
}

// The level one token announces, under the upper-case / bracket / colon rule.
std::optional<LogLevel> token_level(std::string_view t, bool tab_after) {
  bool bracketed = false, colon = false;
  if (t.size() >= 2 && (t.front() == '[' || t.front() == '(' || t.front() == '<')) {
    const char close = t.front() == '[' ? ']' : t.front() == '(' ? ')' : '>';
    const std::size_t end = t.find(close);
    if (end == std::string_view::npos) return std::nullopt;
    colon = end + 1 < t.size() && t[end + 1] == ':';
    t = t.substr(1, end - 1);
    bracketed = true;
  } else if (const std::size_t c = t.find(':'); c != std::string_view::npos) {
    t = t.substr(0, c);  // "WARN:", Python's "ERROR:root:msg"
    colon = true;
  } else if (const std::size_t b = t.find('['); b != std::string_view::npos && b > 0) {
    t = t.substr(0, b);  // logrus on a terminal: "WARN[0000]"
  }
  if (colon && !bracketed) {
    if (const std::size_t dot = t.rfind('.'); dot != std::string_view::npos) t = t.substr(dot + 1);  // monolog
  }
  while (!t.empty() && (t.back() == ',' || t.back() == '|')) t.remove_suffix(1);
  const auto level = log_level_from_word(t);
  if (!level) return std::nullopt;
  if (bracketed || colon || is_upper_word(t) || tab_after) return level;
  return std::nullopt;
}

// ---- logfmt ----

bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '.' ||
         c == '-' || c == '@' || c == '/';
}

struct LogfmtPair {
  std::string_view key;
  std::string_view raw;  // the value as written (quoted values without their quotes)
  bool quoted = false;
  bool escaped = false;  // the quoted value holds backslash escapes
};

// One "key=value" at `pos`; advances past it and the blanks after it.
std::optional<LogfmtPair> next_pair(std::string_view s, std::size_t& pos) {
  const std::size_t start = pos;
  while (pos < s.size() && is_key_char(s[pos])) ++pos;
  if (pos == start || pos >= s.size() || s[pos] != '=') return std::nullopt;
  LogfmtPair p;
  p.key = s.substr(start, pos - start);
  ++pos;
  if (pos < s.size() && s[pos] == '"') {
    const std::size_t vstart = ++pos;
    while (pos < s.size() && s[pos] != '"') {
      if (s[pos] == '\\') {
        p.escaped = true;
        ++pos;
      }
      ++pos;
    }
    if (pos >= s.size()) return std::nullopt;  // unterminated quote: not logfmt
    p.raw = s.substr(vstart, pos - vstart);
    p.quoted = true;
    ++pos;
  } else {
    const std::size_t vstart = pos;
    while (pos < s.size() && !is_space(s[pos])) ++pos;
    p.raw = s.substr(vstart, pos - vstart);
  }
  while (pos < s.size() && is_space(s[pos])) ++pos;
  return p;
}

void unescape_logfmt(std::string_view raw, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\\' && i + 1 < raw.size()) {
      c = raw[++i];
      if (c == 'n') c = '\n';
      else if (c == 't') c = '\t';
      else if (c == 'r') c = '\r';
    }
    out += c;
  }
}

}  // namespace

std::string_view log_level_name(LogLevel l) noexcept {
  switch (l) {
    case LogLevel::Trace: return "trace";
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warn: return "warn";
    case LogLevel::Error: return "error";
    case LogLevel::Fatal: return "fatal";
  }
  return "info";
}

int severity_number(LogLevel l) noexcept { return 1 + 4 * static_cast<int>(l); }

std::optional<LogLevel> log_level_from_word(std::string_view w) noexcept {
  if (w.size() < 3 || w.size() > 13) return std::nullopt;
  char buf[16];
  for (std::size_t i = 0; i < w.size(); ++i) buf[i] = lower_ascii(w[i]);
  const std::string_view s(buf, w.size());
  struct Word {
    std::string_view word;
    LogLevel level;
  };
  static constexpr Word kWords[] = {
      {"trace", LogLevel::Trace},   {"trc", LogLevel::Trace},      {"finest", LogLevel::Trace},
      {"debug", LogLevel::Debug},   {"dbg", LogLevel::Debug},      {"verbose", LogLevel::Debug},
      {"fine", LogLevel::Debug},    {"info", LogLevel::Info},      {"inf", LogLevel::Info},
      {"information", LogLevel::Info}, {"informational", LogLevel::Info}, {"notice", LogLevel::Info},
      {"warn", LogLevel::Warn},     {"warning", LogLevel::Warn},   {"wrn", LogLevel::Warn},
      {"error", LogLevel::Error},   {"err", LogLevel::Error},      {"severe", LogLevel::Error},
      {"fatal", LogLevel::Fatal},   {"ftl", LogLevel::Fatal},      {"critical", LogLevel::Fatal},
      {"crit", LogLevel::Fatal},    {"crt", LogLevel::Fatal},      {"emerg", LogLevel::Fatal},
      {"emergency", LogLevel::Fatal}, {"alert", LogLevel::Fatal},  {"panic", LogLevel::Fatal},
      {"dpanic", LogLevel::Fatal},
  };
  for (const Word& k : kWords)
    if (k.word == s) return k.level;
  return std::nullopt;
}

LogAttribute& LogRecord::add(std::string_view key, LogAttribute::Type type) {
  // A key seen twice in one line (duplicate JSON keys, "a.b" next to {"a":{"b"}})
  // keeps the last value: a log's attributes are an object.
  for (std::size_t i = 0; i < attribute_count; ++i) {
    if (attributes[i].key == key) {
      attributes[i].type = type;
      attributes[i].value.clear();
      return attributes[i];
    }
  }
  if (attribute_count == attributes.size()) attributes.emplace_back();
  LogAttribute& a = attributes[attribute_count++];
  a.key.assign(key);
  a.type = type;
  a.value.clear();
  return a;
}

constexpr std::size_t kMaxPrefixToken = 80;

std::optional<LogLevel> text_line_level(std::string_view line) noexcept {
  std::size_t pos = 0;
  while (pos < line.size() && is_space(line[pos])) ++pos;
  line = line.substr(pos, kTextScanBytes);
  if (line.empty()) return std::nullopt;
  if (auto l = syslog_prefix(line)) return l;
  if (auto l = glog_prefix(line)) return l;
  pos = 0;
  for (int n = 0; n < kTextScanTokens && pos < line.size(); ++n) {
    std::size_t end = pos;
    while (end < line.size() && !is_space(line[end]) && end - pos <= kMaxPrefixToken) ++end;
    // A token this long is neither a level nor a timestamp, logger or thread name: the message.
    if (end - pos > kMaxPrefixToken) return std::nullopt;
    const std::string_view token = line.substr(pos, end - pos);
    const bool tab_after = end < line.size() && line[end] == '\t';
    if (auto l = token_level(token, tab_after)) return l;
    if (!is_metadata(token)) return std::nullopt;  // the message has begun
    pos = end;
    while (pos < line.size() && is_space(line[pos])) ++pos;
  }
  return std::nullopt;
}

struct LogLineParser::Impl {
  simdjson::dom::parser json;
  std::string key;   // the dotted path being built
  std::string body;  // an unescaped logfmt msg

  bool parse_json(std::string_view text, LogRecord& out);
  void scan(simdjson::dom::object obj, std::size_t depth, LogRecord& out);
  void member(std::string_view k, simdjson::dom::element v, std::size_t depth, LogRecord& out);
  bool parse_logfmt(std::string_view text, LogRecord& out);
};

bool LogLineParser::Impl::parse_json(std::string_view text, LogRecord& out) {
  simdjson::dom::element doc;
  if (json.parse(text.data(), text.size(), true).get(doc) != simdjson::SUCCESS) return false;
  simdjson::dom::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) return false;
  out.structured = true;
  key.clear();
  scan(obj, 0, out);
  if (out.body.empty()) out.body = text;
  return true;
}

void LogLineParser::Impl::scan(simdjson::dom::object obj, std::size_t depth, LogRecord& out) {
  for (auto field : obj) {
    const std::size_t mark = key.size();
    if (!key.empty()) key += '.';
    key.append(field.key);
    member(key, field.value, depth, out);
    key.resize(mark);
  }
}

void LogLineParser::Impl::member(std::string_view k, simdjson::dom::element v, std::size_t depth,
                                 LogRecord& out) {
  using ET = simdjson::dom::element_type;
  if (depth == 0 || k == "log.level") {
    if (one_of(k, kLevelKeys)) {
      if (auto l = level_from_json(v)) {
        out.level = *l;
        return;
      }
    }
    if (depth == 0 && out.body.empty() && v.type() == ET::STRING && one_of(k, kBodyKeys)) {
      out.body = v.get_string().value_unsafe();
      return;
    }
  }
  if (v.type() == ET::NULL_VALUE) return;
  if (v.type() == ET::OBJECT && depth + 1 < kMaxDepth) {
    scan(v.get_object().value_unsafe(), depth + 1, out);
    return;
  }
  if (out.attribute_count >= kMaxLineAttributes) {
    ++out.attributes_dropped;
    return;
  }
  switch (v.type()) {
    case ET::STRING: out.add(k, Type::String).value.assign(v.get_string().value_unsafe()); break;
    case ET::INT64: append_number(out.add(k, Type::Integer).value, v.get_int64().value_unsafe()); break;
    case ET::UINT64:  // beyond int64: a double keeps its magnitude
    case ET::DOUBLE: out.add(k, Type::Double).value = simdjson::minify(v); break;
    case ET::BOOL: out.add(k, Type::Boolean).value = v.get_bool().value_unsafe() ? "true" : "false"; break;
    default: out.add(k, Type::String).value = simdjson::minify(v); break;  // arrays, deep objects
  }
}

bool LogLineParser::Impl::parse_logfmt(std::string_view text, LogRecord& out) {
  std::size_t pos = 0;
  while (pos < text.size() && is_space(text[pos])) ++pos;
  // Cheap rejection: the first token must be key=value.
  std::size_t probe = pos;
  if (!next_pair(text, probe)) return false;
  bool has_level = false, has_msg = false;
  for (std::size_t p = pos; p < text.size();) {
    auto pair = next_pair(text, p);
    if (!pair) return false;  // every token must be key=value
    has_level = has_level || one_of(pair->key, kLevelKeys);
    has_msg = has_msg || one_of(pair->key, kBodyKeys);
  }
  if (!has_level && !has_msg) return false;
  out.structured = true;
  bool body_set = false;
  while (pos < text.size()) {
    const LogfmtPair pair = *next_pair(text, pos);
    if (one_of(pair.key, kLevelKeys)) {
      if (auto l = log_level_from_word(pair.raw)) {
        out.level = *l;
        continue;
      }
    }
    const bool is_body = !body_set && one_of(pair.key, kBodyKeys);
    if (!is_body && out.attribute_count >= kMaxLineAttributes) {
      ++out.attributes_dropped;
      continue;
    }
    std::string& target = is_body ? body : out.add(pair.key, Type::String).value;
    if (pair.escaped) unescape_logfmt(pair.raw, target);
    else target.assign(pair.raw);
    if (is_body) {
      out.body = body;
      body_set = true;
    }
  }
  if (!body_set) out.body = text;
  return true;
}

LogLineParser::LogLineParser() : impl_(std::make_unique<Impl>()) {}
LogLineParser::~LogLineParser() = default;
LogLineParser::LogLineParser(LogLineParser&&) noexcept = default;
LogLineParser& LogLineParser::operator=(LogLineParser&&) noexcept = default;

void LogLineParser::parse(std::string_view text, LogRecord& out) {
  out.level = LogLevel::Info;
  out.body = {};
  out.structured = false;
  out.attribute_count = 0;
  out.attributes_dropped = 0;
  std::size_t first = 0;
  while (first < text.size() && is_space(text[first])) ++first;
  std::size_t last = text.size();
  while (last > first && is_space(text[last - 1])) --last;
  if (last - first >= 2 && text[first] == '{' && text[last - 1] == '}' &&
      impl_->parse_json(text.substr(first, last - first), out))
    return;
  out.attribute_count = 0;
  out.level = LogLevel::Info;
  out.body = {};
  if (first < text.size() && is_key_char(text[first]) && text.find('=') != std::string_view::npos &&
      impl_->parse_logfmt(text, out))
    return;
  out.attribute_count = 0;
  out.structured = false;
  out.level = text_line_level(text).value_or(LogLevel::Info);
  out.body = text;
}

}  // namespace crashwrap::parsers
