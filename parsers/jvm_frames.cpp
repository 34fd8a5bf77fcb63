#include "parsers/jvm_frames.h"

#include "parsers/text.h"

namespace crashwrap::parsers::jvm {
namespace {

using text::contains;
using text::starts_with;

bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }

bool has_space(std::string_view s) noexcept {
  for (char c : s)
    if (is_space(c)) return true;
  return false;
}

bool is_class_char(char c) noexcept { return text::is_identifier_char(c) || static_cast<unsigned char>(c) >= 0x80; }

// What a frame names as its source: "Main.java:12", "Main.kt", "Native Method",
// "Unknown Source", "<generated>", "SourceFile:3" (shrunk builds).
bool is_frame_source(std::string_view s) noexcept {
  if (s == "Native Method" || s == "<generated>" || starts_with(s, "Unknown Source")) return true;
  if (s.empty() || has_space(s)) return false;
  auto colon = text::split_last(s, ":");
  if (colon.found) return !colon.left.empty() && text::parse_uint(colon.right).has_value();
  return contains(s, ".") || contains(s, "$");  // "Main.kt", hidden "LambdaForm$DMH"
}

// Logback/Log4j2 packaging data after the frame: " ~[spring-core.jar:5.3.1]", " [?:?]".
bool is_packaging_suffix(std::string_view s) noexcept {
  s = text::trim_right(s);
  if (s.empty()) return true;
  return (starts_with(s, " ~[") || starts_with(s, " [")) && text::ends_with(s, "]");
}

// "java.base/java.lang.Thread.run", "app//com.x.Main.run", "mod@1.0/com.x.Main.run":
// class loader and module names end with '/'. Hidden classes carry a '/' of
// their own after a '$' ("LambdaForm$DMH/0x0000000800c0c000"), so a part with
// '$' is never taken for a prefix.
std::string_view strip_module_prefix(std::string_view name) noexcept {
  for (int i = 0; i < 2; ++i) {
    auto slash = name.find('/');
    if (slash == std::string_view::npos || contains(name.substr(0, slash), "$")) break;
    name = name.substr(slash + 1);
    if (!name.empty() && name.front() == '/') name.remove_prefix(1);
  }
  return name;
}

struct FrameParts {
  std::string_view cls, method, source;
};

std::optional<FrameParts> split_frame(std::string_view line) noexcept {
  auto rest = text::after(text::trim_left(line), "at ");
  if (!rest) return std::nullopt;
  auto open = rest->find('(');
  if (open == std::string_view::npos || open == 0) return std::nullopt;
  auto close = rest->find(')', open);
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view name = rest->substr(0, open);
  std::string_view source = rest->substr(open + 1, close - open - 1);
  if (has_space(name) || !is_frame_source(source) || !is_packaging_suffix(rest->substr(close + 1))) return std::nullopt;
  name = strip_module_prefix(name);
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == name.size()) return std::nullopt;
  return FrameParts{name.substr(0, dot), name.substr(dot + 1), source};
}

}  // namespace

bool is_class_name(std::string_view s) noexcept {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  char prev = 0;
  for (char c : s) {
    if (c == '.') {
      if (prev == '.') return false;
    } else if (!is_class_char(c)) {
      return false;
    }
    prev = c;
  }
  return true;
}

std::optional<Throwable> parse_throwable(std::string_view line, bool require_package) noexcept {
  // The class name starts the line and ends at ": ", a final ':' or the end:
  // most lines fail these tests before any search.
  std::size_t end = 0;
  while (end < line.size() && (is_class_char(line[end]) || line[end] == '.')) ++end;
  if (end == 0 || (end < line.size() && !starts_with(line.substr(end), ": ") && end + 1 != line.size()))
    return std::nullopt;
  if (end + 1 == line.size() && line[end] != ':') return std::nullopt;
  Throwable t;
  auto split = text::split_first(line, ": ");
  if (split.found) {
    t.cls = split.left;
    t.message = split.right;
  } else if (text::ends_with(line, ":")) {  // empty message whose trailing space was trimmed
    t.cls = line.substr(0, line.size() - 1);
    t.message = std::string_view();
  } else {
    t.cls = line;
  }
  if (!is_class_name(t.cls)) return std::nullopt;
  if (require_package) {
    auto [pkg, simple] = split_class(t.cls);
    // The class of a logged trace may live in the default package
    // ("Main$PaymentException"); its "at" lines are what proves the trace.
    if (pkg.empty() && t.cls.find('$') == std::string_view::npos) return std::nullopt;
    if (simple.empty() || !(simple.front() >= 'A' && simple.front() <= 'Z')) return std::nullopt;
    if (!contains(simple, "Exception") && !contains(simple, "Error") && !contains(simple, "Throwable"))
      return std::nullopt;
  }
  return t;
}

std::pair<std::string_view, std::string_view> split_class(std::string_view cls) noexcept {
  auto dot = cls.rfind('.');
  if (dot == std::string_view::npos) return {std::string_view(), cls};
  return {cls.substr(0, dot), cls.substr(dot + 1)};
}

bool is_in_app_class(std::string_view cls) noexcept {
  static constexpr std::string_view kLibraries[] = {
      "java.", "javax.", "jdk.", "sun.", "com.sun.", "kotlin.", "kotlinx.", "scala.", "groovy.",
      "org.codehaus.groovy.", "jakarta.", "org.springframework.", "org.apache.", "io.netty.",
      "org.eclipse.jetty.", "org.hibernate.", "com.fasterxml.", "ch.qos.logback.", "org.slf4j.",
      "reactor.", "io.reactivex.", "okhttp3.", "com.google.common.", "org.junit.", "io.grpc.",
      "io.vertx.", "io.micronaut.", "io.quarkus.", "akka.", "org.glassfish.", "com.zaxxer.hikari.",
  };
  for (std::string_view p : kLibraries)
    if (starts_with(cls, p)) return false;
  return true;
}

bool is_frame(std::string_view line) noexcept { return split_frame(line).has_value(); }

std::optional<Frame> parse_frame(std::string_view line) {
  std::optional<Frame> out;  // one object for every return: built in place, never moved
  auto parts = split_frame(line);
  if (!parts) return out;
  Frame& f = out.emplace();
  f.module = std::string(parts->cls);
  f.function = std::string(parts->method);
  std::string_view src = parts->source;
  if (src != "Native Method" && src != "<generated>" && !starts_with(src, "Unknown Source")) {
    auto colon = text::split_last(src, ":");
    auto line_no = colon.found ? text::parse_uint(colon.right) : std::nullopt;
    if (line_no && *line_no <= UINT32_MAX) {
      f.filename = std::string(colon.left);
      f.lineno = static_cast<std::uint32_t>(*line_no);
    } else {
      f.filename = std::string(src);
    }
  }
  f.in_app = is_in_app_class(parts->cls);
  return out;
}

std::optional<std::uint64_t> more_count(std::string_view line) noexcept {
  auto rest = text::after(text::trim(line), "... ");
  if (!rest) return std::nullopt;
  auto sp = rest->find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  std::string_view tail = rest->substr(sp);
  if (tail != " more" && tail != " common frames omitted") return std::nullopt;
  return text::parse_uint(rest->substr(0, sp));
}

}  // namespace crashwrap::parsers::jvm
