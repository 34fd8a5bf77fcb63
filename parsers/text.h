// Small allocation-free text helpers shared by the detectors. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crashwrap::parsers::text {

inline bool starts_with(std::string_view s, std::string_view p) noexcept { return s.substr(0, p.size()) == p; }
inline bool ends_with(std::string_view s, std::string_view p) noexcept {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}
inline bool contains(std::string_view s, std::string_view p) noexcept { return s.find(p) != std::string_view::npos; }

std::string_view trim(std::string_view s) noexcept;
std::string_view trim_left(std::string_view s) noexcept;
std::string_view trim_right(std::string_view s) noexcept;

// Number of leading spaces/tabs.
std::size_t indent(std::string_view s) noexcept;

// Parses a decimal number that makes up all of `s` (no sign, no spaces).
std::optional<std::uint64_t> parse_uint(std::string_view s) noexcept;

// Copies `s` without ANSI escape sequences (CSI "ESC [ … final", OSC "ESC ] … BEL/ST", and 2-byte ESC x).
std::string strip_ansi(std::string_view s);
inline bool has_escape(std::string_view s) noexcept { return s.find('\x1b') != std::string_view::npos; }

// After `prefix` if `s` starts with it, else nullopt.
std::optional<std::string_view> after(std::string_view s, std::string_view prefix) noexcept;

// Splits "a<sep>b" at the FIRST / LAST occurrence of sep.
struct Split { std::string_view left, right; bool found = false; };
Split split_first(std::string_view s, std::string_view sep) noexcept;
Split split_last(std::string_view s, std::string_view sep) noexcept;

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
bool is_identifier_char(char c) noexcept;

}  // namespace crashwrap::parsers::text
