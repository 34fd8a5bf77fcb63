#include "sinks/event_trim.h"

#include <algorithm>

namespace crashwrap::sinks {
namespace {

using json = nlohmann::json;

constexpr std::string_view kReplacement = "\xef\xbf\xbd";  // U+FFFD
constexpr std::string_view kEllipsis = "\xe2\x80\xa6";     // …
// Room kept for the trimming record itself.
constexpr std::size_t kRecordReserve = 512;

std::vector<json*> stacktraces(json& event) {
  std::vector<json*> out;
  for (const char* section : {"exception", "threads"}) {
    auto it = event.find(section);
    if (it == event.end() || !it->is_object() || !it->contains("values") || !(*it)["values"].is_array()) continue;
    for (json& v : (*it)["values"]) {
      if (!v.is_object()) continue;
      auto st = v.find("stacktrace");
      if (st != v.end() && st->is_object() && st->contains("frames") && (*st)["frames"].is_array())
        out.push_back(&(*st)["frames"]);
    }
  }
  return out;
}

void drop_breadcrumbs(json& event, std::size_t& size, std::size_t target, TrimReport& r) {
  auto it = event.find("breadcrumbs");
  if (it == event.end() || !it->is_object() || !it->contains("values")) return;
  json& values = (*it)["values"];
  if (!values.is_array()) return;
  std::size_t drop = 0;
  while (size > target && drop < values.size()) size -= json_size(values[drop++]) + 1;
  values.erase(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(drop));
  r.breadcrumbs_removed += drop;
  if (values.empty()) event.erase("breadcrumbs");
  size = json_size(event);
}

// Keeps the `oldest` first and `newest` last frames of every longer stack.
void drop_middle_frames(json& event, std::size_t oldest, std::size_t newest, TrimReport& r) {
  for (json* frames : stacktraces(event)) {
    if (frames->size() <= oldest + newest) continue;
    std::size_t removed = frames->size() - oldest - newest;
    frames->erase(frames->begin() + static_cast<std::ptrdiff_t>(oldest),
                  frames->begin() + static_cast<std::ptrdiff_t>(oldest + removed));
    r.frames_removed += removed;
  }
}

// Drops the stacks of threads that neither crashed nor were current, newest listed first.
void drop_thread_stacks(json& event, std::size_t& size, std::size_t target, TrimReport& r) {
  auto it = event.find("threads");
  if (it == event.end() || !it->is_object() || !it->contains("values")) return;
  json& values = (*it)["values"];
  for (std::size_t i = values.size(); i-- > 0 && size > target;) {
    json& t = values[i];
    if (!t.is_object() || t.value("crashed", false) || t.value("current", false) || !t.contains("stacktrace"))
      continue;
    std::size_t frames = t["stacktrace"].value("frames", json::array()).size();
    size -= std::min(size, json_size(t["stacktrace"]));
    t.erase("stacktrace");
    r.frames_removed += frames;
    ++r.threads_removed;
  }
  size = json_size(event);
}

void truncate_strings(json& value, std::size_t limit, TrimReport& r) {
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    if (s.size() > limit) {
      value = truncate_utf8(s, limit);
      ++r.strings_truncated;
    }
  } else if (value.is_structured()) {
    for (auto& child : value) truncate_strings(child, limit, r);
  }
}

void record(json& event, const TrimReport& r) {
  json& extra = event["extra"];
  if (!extra.is_object()) extra = json::object();
  extra["crashwrap.trimmed"] = {{"bytes_before", r.bytes_before},
                                {"breadcrumbs_removed", r.breadcrumbs_removed},
                                {"frames_removed", r.frames_removed},
                                {"threads_removed", r.threads_removed},
                                {"strings_truncated", r.strings_truncated}};
}

}  // namespace

std::size_t json_size(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace).size();
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when invalid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  unsigned char c1 = byte(i + 1);
  unsigned char lo = 0x80, hi = 0xbf;
  if (c == 0xe0) lo = 0xa0;
  if (c == 0xed) hi = 0x9f;
  if (c == 0xf0) lo = 0x90;
  if (c == 0xf4) hi = 0x8f;
  if (c1 < lo || c1 > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
  return n;
}

bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    std::size_t n = utf8_sequence_length(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string valid_utf8(std::string_view text) {
  if (is_valid_utf8(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 16);
  for (std::size_t i = 0; i < text.size();) {
    std::size_t n = utf8_sequence_length(text, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

void make_valid_utf8(nlohmann::json& value) {
  if (value.is_string()) {
    auto& s = value.get_ref<std::string&>();
    if (!is_valid_utf8(s)) s = valid_utf8(s);
  } else if (value.is_array()) {
    for (auto& child : value) make_valid_utf8(child);
  } else if (value.is_object()) {
    bool bad_key = false;
    for (auto it = value.begin(); it != value.end(); ++it) {
      make_valid_utf8(it.value());
      bad_key = bad_key || !is_valid_utf8(it.key());
    }
    if (bad_key) {
      json fixed = json::object();
      for (auto it = value.begin(); it != value.end(); ++it) fixed[valid_utf8(it.key())] = std::move(it.value());
      value = std::move(fixed);
    }
  }
}

std::string truncate_utf8(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  if (max_bytes < kEllipsis.size()) return std::string();
  std::size_t cut = max_bytes - kEllipsis.size();
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;  // not inside a character
  return std::string(text.substr(0, cut)) + std::string(kEllipsis);
}

TrimReport trim_event(nlohmann::json& event, std::size_t max_bytes) {
  TrimReport r;
  std::size_t size = json_size(event);
  r.bytes_before = size;
  r.bytes_after = size;
  if (size <= max_bytes) return r;
  std::size_t target = max_bytes > 2 * kRecordReserve ? max_bytes - kRecordReserve : max_bytes / 2;

  drop_breadcrumbs(event, size, target, r);
  if (size > target) {
    // What Relay itself keeps of a deep recursion: the 50 oldest and 200 newest frames.
    drop_middle_frames(event, 50, 200, r);
    size = json_size(event);
  }
  if (size > target) drop_thread_stacks(event, size, target, r);
  for (std::size_t limit : {16384, 4096, 1024, 256}) {
    if (size <= target) break;
    truncate_strings(event, limit, r);
    size = json_size(event);
  }
  for (std::size_t keep : {40, 12, 4}) {  // last resort: even the crashing stack gets shorter
    if (size <= target) break;
    drop_middle_frames(event, keep / 4, keep, r);
    size = json_size(event);
  }
  record(event, r);
  r.bytes_after = json_size(event);
  r.fits = r.bytes_after <= max_bytes;
  return r;
}

}  // namespace crashwrap::sinks
