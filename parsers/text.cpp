#include "parsers/text.h"

namespace crashwrap::parsers::text {

std::string strip_ansi(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c != '\x1b') {
      out.push_back(c);
      continue;
    }
    if (i + 1 >= s.size()) break;
    char k = s[i + 1];
    if (k == '[') {  // CSI: parameters and intermediates, then one final byte 0x40–0x7e
      std::size_t j = i + 2;
      while (j < s.size() && !(s[j] >= 0x40 && s[j] <= 0x7e)) ++j;
      i = j;
    } else if (k == ']') {  // OSC: up to BEL or ESC '\'
      std::size_t j = i + 2;
      while (j < s.size() && s[j] != '\a' && !(s[j] == '\x1b' && j + 1 < s.size() && s[j + 1] == '\\')) ++j;
      i = (j < s.size() && s[j] == '\x1b') ? j + 1 : j;
    } else {
      i += 1;  // two-byte escape
    }
  }
  return out;
}

std::optional<FileLine> parse_file_line_col(std::string_view s) noexcept {
  auto last = split_last(s, ":");
  if (!last.found) return std::nullopt;
  auto n1 = parse_uint(last.right);
  if (!n1 || *n1 > UINT32_MAX) return std::nullopt;
  auto prev = split_last(last.left, ":");
  if (prev.found) {
    if (auto n2 = parse_uint(prev.right); n2 && *n2 <= UINT32_MAX && !prev.left.empty())
      return FileLine{prev.left, static_cast<std::uint32_t>(*n2), static_cast<std::uint32_t>(*n1)};
  }
  if (last.left.empty()) return std::nullopt;
  return FileLine{last.left, static_cast<std::uint32_t>(*n1), std::nullopt};
}

std::string shape(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= '0' && c <= '9') c = '0';
  return out;
}

bool same_shape(std::string_view a, std::string_view shaped) noexcept {
  if (a.size() < shaped.size()) return false;
  for (std::size_t i = 0; i < shaped.size(); ++i) {
    char c = a[i];
    if (c >= '0' && c <= '9') c = '0';
    if (c != shaped[i]) return false;
  }
  return true;
}

std::string_view basename(std::string_view path) noexcept {
  auto p = path.find_last_of('/');
  return p == std::string_view::npos ? path : path.substr(p + 1);
}

bool is_hex(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

}  // namespace crashwrap::parsers::text
