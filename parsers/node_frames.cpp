#include "parsers/node_frames.h"

#include "parsers/text.h"

namespace crashwrap::parsers::node {
namespace {

using text::starts_with;

bool is_name_start(char c) noexcept { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '$'; }

bool is_js_name(std::string_view s) noexcept {
  if (s.empty() || !is_name_start(s.front())) return false;
  for (char c : s)
    if (!text::is_identifier_char(c)) return false;
  return true;
}

// "ERR_INVALID_ARG_TYPE"; a worker's error re-thrown in the parent says "[Error]".
bool is_code(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s)
    if (!text::is_identifier_char(c)) return false;
  return true;
}

// As Sentry's Node SDK decides: code in an absolute (or relative) path
// outside node_modules is the app's; node:internal/…, <anonymous>, native are not.
bool in_app_path(std::string_view file) noexcept {
  bool path = starts_with(file, "/") || starts_with(file, ".") ||
              (file.size() > 2 && file[1] == ':' && (file[2] == '\\' || file[2] == '/'));
  return path && !text::contains(file, "/node_modules/") && !text::contains(file, "\\node_modules\\");
}

struct FrameParts {
  std::string_view function, location;
  bool opens_properties = false;
};

// A location V8 prints: "file:line:col", or in parentheses also
// "<anonymous>", "native", "index N".
bool is_location(std::string_view loc, bool in_parens) noexcept {
  auto fl = text::parse_file_line_col(loc);
  if (fl && fl->col) return true;
  if (!in_parens) return false;
  return fl.has_value() || loc == "<anonymous>" || loc == "native" || starts_with(loc, "index ");
}

std::optional<FrameParts> split_frame(std::string_view line) noexcept {
  auto rest = text::after(text::trim_left(line), "at ");
  if (!rest) return std::nullopt;
  FrameParts p;
  std::string_view r = text::trim_right(*rest);
  if (text::ends_with(r, " {")) {
    p.opens_properties = true;
    r = r.substr(0, r.size() - 2);
  }
  if (auto a = text::after(r, "async ")) r = *a;
  auto open = text::find(r, " (");
  if (open != std::string_view::npos && text::ends_with(r, ")")) {
    p.function = r.substr(0, open);
    p.location = r.substr(open + 2, r.size() - open - 3);
    if (!is_location(p.location, true)) return std::nullopt;
    return p;
  }
  if (r.find(' ') != std::string_view::npos && !starts_with(r, "file://")) return std::nullopt;
  p.location = r;
  if (!is_location(p.location, false)) return std::nullopt;
  return p;
}

}  // namespace

std::optional<ErrorHeader> parse_error_header(std::string_view line, bool bare) noexcept {
  ErrorHeader h;
  std::string_view s = line;
  if (starts_with(s, "[")) {  // util.inspect of an error without a stack
    if (text::ends_with(s, "] {")) {
      h.opens_properties = true;
      s = s.substr(0, s.size() - 2);
    }
    if (!text::ends_with(s, "]")) return std::nullopt;
    s = s.substr(1, s.size() - 2);
  }
  // The name starts the line and ends at ": ", " [" or the end: most lines
  // fail these tests before any search.
  if (s.empty() || !is_name_start(s.front())) return std::nullopt;
  std::size_t end = 0;
  while (end < s.size() && text::is_identifier_char(s[end])) ++end;
  if (end < s.size() && !starts_with(s.substr(end), ": ") && !starts_with(s.substr(end), " [")) return std::nullopt;
  auto split = text::split_first(s, ": ");
  std::string_view name = split.found ? split.left : s;
  if (split.found) h.message = split.right;
  if (auto code = text::split_first(name, " ["); code.found) {
    if (!text::ends_with(code.right, "]") || !is_code(code.right.substr(0, code.right.size() - 1))) return std::nullopt;
    h.code = code.right.substr(0, code.right.size() - 1);
    name = code.left;
  }
  if (!is_js_name(name)) return std::nullopt;
  if (bare && !text::ends_with(name, "Error") && !text::ends_with(name, "Exception")) return std::nullopt;
  h.name = name;
  return h;
}

bool is_frame(std::string_view line, bool* opens_properties) noexcept {
  auto p = split_frame(line);
  if (p && opens_properties) *opens_properties = p->opens_properties;
  return p.has_value();
}

std::optional<Frame> parse_frame(std::string_view line, bool* opens_properties) {
  std::optional<Frame> out;  // one object for every return: built in place, never moved
  auto p = split_frame(line);
  if (!p) return out;
  if (opens_properties) *opens_properties = p->opens_properties;
  Frame& f = out.emplace();
  f.function = std::string(p->function);
  std::string_view loc = p->location;
  if (auto fl = text::parse_file_line_col(loc)) {
    std::string_view file = fl->file;
    if (auto local = text::after(file, "file://")) file = *local;
    f.filename = std::string(file);
    if (in_app_path(file)) f.abs_path = std::string(file);
    f.lineno = fl->line;
    f.colno = fl->col;
    f.in_app = in_app_path(file);
  } else {
    if (loc == "<anonymous>") f.filename = std::string(loc);
    f.in_app = false;
  }
  return out;
}

std::optional<Frame> parse_native_frame(std::string_view line) {
  std::optional<Frame> out;  // one object for every return: built in place, never moved
  std::string_view s = text::trim_left(line);
  auto colon = text::find(s, ": 0x");
  if (colon == std::string_view::npos || !text::parse_uint(s.substr(0, colon))) return out;
  s = s.substr(colon + 2);
  auto sp = s.find(' ');
  std::string_view addr = s.substr(0, sp);
  if (!text::is_hex(addr.substr(2))) return out;
  Frame& f = out.emplace();
  f.instruction_addr = std::string(addr);
  std::string_view rest = sp == std::string_view::npos ? std::string_view() : text::trim(s.substr(sp));
  if (text::ends_with(rest, "]")) {
    auto open = rest.rfind('[');
    if (open != std::string_view::npos) {
      f.package = std::string(rest.substr(open + 1, rest.size() - open - 2));
      rest = text::trim_right(rest.substr(0, open));
    }
  }
  f.function = std::string(rest);
  f.in_app = false;
  return out;
}

bool is_native_frame(std::string_view line) noexcept {
  std::string_view s = text::trim_left(line);
  auto colon = text::find(s, ": 0x");
  return colon != std::string_view::npos && colon > 0 && text::parse_uint(s.substr(0, colon)).has_value();
}

std::optional<std::uint32_t> cause_match_count(std::string_view line) noexcept {
  auto rest = text::after(text::trim(line), "... ");
  if (!rest) return std::nullopt;
  auto split = text::split_first(*rest, " lines matching cause stack trace ...");
  if (!split.found || !split.right.empty()) return std::nullopt;
  auto n = text::parse_uint(split.left);
  if (!n || *n > UINT32_MAX) return std::nullopt;
  return static_cast<std::uint32_t>(*n);
}

}  // namespace crashwrap::parsers::node
