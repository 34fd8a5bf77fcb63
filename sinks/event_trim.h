// Keeping an event within Sentry's size limit (1 MiB per event item), and the
// UTF-8 helpers that make any child output safe to put in JSON.
//
// Trimming order (what matters least goes first): the oldest breadcrumbs; the
// middle frames of stacks longer than 250 frames (the 50 oldest and 200 newest
// stay, as Relay keeps them); the stacks of threads that neither crashed nor were current (last
// listed first); strings longer than 16 KiB, then 4 KiB, 1 KiB, 256 B; as a
// last resort the middle frames of every stack. What was trimmed is recorded in
// extra["crashwrap.trimmed"]. Pure; callable from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace crashwrap::sinks {

inline constexpr std::size_t kMaxEventBytes = 1024 * 1024;

struct TrimReport {
  std::size_t bytes_before = 0;
  std::size_t bytes_after = 0;
  std::size_t breadcrumbs_removed = 0;
  std::size_t frames_removed = 0;
  std::size_t threads_removed = 0;      // thread stacks dropped (threads of no interest)
  std::size_t strings_truncated = 0;
  bool fits = true;                     // bytes_after <= max_bytes
  bool trimmed() const {
    return breadcrumbs_removed + frames_removed + threads_removed + strings_truncated > 0;
  }
};

// Trims `event` (a Sentry event object) until its compact JSON is at most
// `max_bytes`, recording what was trimmed in the event. An event already small
// enough is left untouched. `fits` is false only when even full trimming could
// not get there (the caller drops it and counts it).
TrimReport trim_event(nlohmann::json& event, std::size_t max_bytes = kMaxEventBytes);

// Size of the compact JSON (invalid UTF-8 counted as replaced).
std::size_t json_size(const nlohmann::json& value);

// Length of the valid UTF-8 sequence starting at s[i] (i < s.size()), or 0
// when invalid (overlong forms, surrogates, code points above U+10FFFF).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i);
// `text` with every invalid UTF-8 sequence replaced by U+FFFD.
std::string valid_utf8(std::string_view text);
bool is_valid_utf8(std::string_view text);
// Replaces invalid UTF-8 in every string and key of `value`, in place.
void make_valid_utf8(nlohmann::json& value);
// At most `max_bytes` bytes of valid UTF-8 `text`, cut at a character boundary;
// when cut, "…" is appended (within the limit).
std::string truncate_utf8(std::string_view text, std::size_t max_bytes);

}  // namespace crashwrap::sinks
