// Small allocation-free text helpers shared by the detectors. Pure functions.
#pragma once

#include <string.h>  // memrchr

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace crashwrap::parsers::text {

// Inline so that a literal prefix compiles to a few compares; the first (or
// last) byte is tested before the rest, which rejects most lines at once.
inline bool starts_with(std::string_view s, std::string_view p) noexcept {
  return s.size() >= p.size() &&
         (p.empty() || (s[0] == p[0] && std::memcmp(s.data(), p.data(), p.size()) == 0));
}
inline bool ends_with(std::string_view s, std::string_view p) noexcept {
  return s.size() >= p.size() &&
         (p.empty() || (s.back() == p.back() && std::memcmp(s.data() + s.size() - p.size(), p.data(), p.size()) == 0));
}

// First position of byte `c` in [first, last), or `last`: eight bytes per
// step without a call, which beats memchr on lines of a few dozen bytes.
inline const char* find_byte(const char* first, const char* last, char c) noexcept {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHighs = 0x8080808080808080ull;
  const std::uint64_t pattern = kOnes * static_cast<unsigned char>(c);
  for (; last - first >= 8; first += 8) {
    std::uint64_t w;
    std::memcpy(&w, first, 8);
    w ^= pattern;  // a zero byte where `c` is
    if (((w - kOnes) & ~w & kHighs) != 0) break;
  }
  for (; first != last; ++first)
    if (*first == c) return first;
  return last;
}

// First occurrence of `p` at or after `from`, as std::string_view::find:
// memchr finds the candidates, and the rest of `p` is compared in place
// (inline, so a literal pattern costs a compare or two, not a memcmp call;
// the second byte is tested first, so most candidates cost no call at all).
inline std::size_t find(std::string_view s, std::string_view p, std::size_t from = 0) noexcept {
  if (p.empty()) return from <= s.size() ? from : std::string_view::npos;
  if (p.size() > s.size() || from > s.size() - p.size()) return std::string_view::npos;
  const char* const begin = s.data();
  const char* const last = begin + (s.size() - p.size());  // the last possible start
  for (const char* at = begin + from;; ++at) {
    at = find_byte(at, last + 1, p[0]);
    if (at == last + 1) return std::string_view::npos;
    if (p.size() == 1 || (at[1] == p[1] && std::memcmp(at + 2, p.data() + 2, p.size() - 2) == 0))
      return static_cast<std::size_t>(at - begin);
    if (at == last) return std::string_view::npos;
  }
}

// Last occurrence of `p` starting at or before `pos`, as std::string_view::rfind
// (which compares at every position).
inline std::size_t rfind(std::string_view s, std::string_view p, std::size_t pos = std::string_view::npos) noexcept {
  if (p.size() > s.size()) return std::string_view::npos;
  std::size_t i = std::min(s.size() - p.size(), pos);
  if (p.empty()) return i;
  for (;;) {
    const void* hit = ::memrchr(s.data(), p[0], i + 1);
    if (hit == nullptr) return std::string_view::npos;
    i = static_cast<std::size_t>(static_cast<const char*>(hit) - s.data());
    if (std::memcmp(s.data() + i + 1, p.data() + 1, p.size() - 1) == 0) return i;
    if (i == 0) return std::string_view::npos;
    --i;
  }
}

// First position of `a` or `b` (find_first_of for two bytes, without a
// memchr call per byte).
inline std::size_t find_either(std::string_view s, char a, char b) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s[i] == a || s[i] == b) return i;
  return std::string_view::npos;
}

inline bool contains(std::string_view s, std::string_view p) noexcept {
  if (p.size() == 1) return s.find(p[0]) != std::string_view::npos;
  return find(s, p) != std::string_view::npos;
}

// A fixed list of non-empty literals and the set of their first bytes: whether
// a text starts with, or contains, one of them is answered comparing only
// where a byte can start one (one pass instead of one search per literal).
template <std::size_t N>
class Needles {
 public:
  constexpr explicit Needles(const std::string_view (&list)[N]) noexcept {
    for (std::size_t i = 0; i < N; ++i) {
      list_[i] = list[i];
      first_[static_cast<unsigned char>(list[i][0])] = true;
    }
  }
  // starts_with(s, p) for some p.
  bool prefix_of(std::string_view s) const noexcept {
    if (s.empty() || !first_[static_cast<unsigned char>(s[0])]) return false;
    for (std::string_view p : list_)
      if (starts_with(s, p)) return true;
    return false;
  }
  // contains(s, p) for some p.
  bool found_in(std::string_view s) const noexcept {
    for (std::size_t i = 0; i < s.size(); ++i)
      if (first_[static_cast<unsigned char>(s[i])] && prefix_of(s.substr(i))) return true;
    return false;
  }

 private:
  std::array<std::string_view, N> list_{};
  std::array<bool, 256> first_{};
};

inline bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

inline std::string_view trim_left(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size() && is_space(s[i])) ++i;
  return s.substr(i);
}
inline std::string_view trim_right(std::string_view s) noexcept {
  std::size_t n = s.size();
  while (n > 0 && is_space(s[n - 1])) --n;
  return s.substr(0, n);
}
inline std::string_view trim(std::string_view s) noexcept { return trim_right(trim_left(s)); }

// Number of leading spaces/tabs.
inline std::size_t indent(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return i;
}

// Parses a decimal number that makes up all of `s` (no sign, no spaces).
inline std::optional<std::uint64_t> parse_uint(std::string_view s) noexcept {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

// Copies `s` without ANSI escape sequences (CSI "ESC [ … final", OSC "ESC ] … BEL/ST", and 2-byte ESC x).
std::string strip_ansi(std::string_view s);
inline bool has_escape(std::string_view s) noexcept {
  return find_byte(s.data(), s.data() + s.size(), '\x1b') != s.data() + s.size();
}

// After `prefix` if `s` starts with it, else nullopt.
inline std::optional<std::string_view> after(std::string_view s, std::string_view prefix) noexcept {
  if (!starts_with(s, prefix)) return std::nullopt;
  return s.substr(prefix.size());
}

// Splits "a<sep>b" at the FIRST / LAST occurrence of sep.
struct Split { std::string_view left, right; bool found = false; };
inline Split split_first(std::string_view s, std::string_view sep) noexcept {
  auto p = sep.size() == 1 ? s.find(sep[0]) : find(s, sep);
  if (p == std::string_view::npos) return {s, {}, false};
  return {s.substr(0, p), s.substr(p + sep.size()), true};
}
inline Split split_last(std::string_view s, std::string_view sep) noexcept {
  auto p = sep.size() == 1 ? s.rfind(sep[0]) : rfind(s, sep);
  if (p == std::string_view::npos) return {s, {}, false};
  return {s.substr(0, p), s.substr(p + sep.size()), true};
}

// "file:LINE" / "file:LINE:COL" at the end of `s` → {file, line, col}.
struct FileLine { std::string_view file; std::optional<std::uint32_t> line, col; };
std::optional<FileLine> parse_file_line_col(std::string_view s) noexcept;

// Shape of a prefix for comparison between lines: digits become '0', so that
// "2024-01-02 10:11:12 " and "2024-01-02 10:11:13 " have the same shape.
std::string shape(std::string_view s);
bool same_shape(std::string_view a, std::string_view shaped) noexcept;

// Base name of a path ("/a/b/c.py" → "c.py").
std::string_view basename(std::string_view path) noexcept;

bool is_hex(std::string_view s) noexcept;
inline bool is_identifier_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$';
}

}  // namespace crashwrap::parsers::text
