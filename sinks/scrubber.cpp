#include "sinks/scrubber.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "sinks/event_builder.h"

namespace crashwrap::sinks {
namespace {

struct Range {
  std::size_t begin, end;
};
using Ranges = std::vector<Range>;

// What each byte may start: the single pass below looks only at these.
enum Trigger : std::uint8_t { None, Separator, At, UpperA, Dash, Digit, Space };

constexpr std::array<std::uint8_t, 256> make_triggers() {
  std::array<std::uint8_t, 256> t{};
  t[':'] = t['='] = Separator;
  t['@'] = At;
  t['A'] = UpperA;
  t['-'] = Dash;
  t[' '] = Space;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = Digit;
  return t;
}
constexpr auto kTriggers = make_triggers();

// Bytes 0x2D…0x41 ('-' '.' '/' digits ':' ';' '<' '=' '>' '?' '@' 'A') hold
// every trigger but the space, which only continues a digit run.
constexpr unsigned kRangeLow = 0x2D, kRangeSize = 0x41 - 0x2D + 1;

#if !defined(__SSE2__)
inline std::uint64_t load8(const unsigned char* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Whether a byte of `x` lies in that range. Exact for each byte; bytes ≥ 0x80
// never match.
inline bool may_trigger(std::uint64_t x) noexcept {
  constexpr std::uint64_t ones = ~std::uint64_t{0} / 255, low7 = ones * 127, high = ones * 128;
  constexpr std::uint64_t above = kRangeLow - 1, below = kRangeLow + kRangeSize;  // exclusive bounds
  return (((ones * (127 + below) - (x & low7)) & ~x & ((x & low7) + ones * (127 - above))) & high) != 0;
}
#endif

// The first index ≥ i whose byte lies in that range, or n: everything before it
// (letters, spaces, most punctuation, UTF-8) can start nothing once no digit
// run is open. Sixteen bytes per step with SSE2, eight without.
inline std::size_t skip_quiet(const unsigned char* p, std::size_t i, std::size_t n) noexcept {
#if defined(__SSE2__)
  // Shifted so that the range becomes the 21 smallest signed bytes.
  const __m128i shift = _mm_set1_epi8(static_cast<char>(0x80 - kRangeLow));
  const __m128i limit = _mm_set1_epi8(static_cast<char>(-128 + static_cast<int>(kRangeSize)));
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const int hits = _mm_movemask_epi8(_mm_cmplt_epi8(_mm_add_epi8(v, shift), limit));
    if (hits != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(hits)));
  }
#else
  while (i + 8 <= n && !may_trigger(load8(p + i))) i += 8;
#endif
  while (i < n && static_cast<unsigned>(p[i] - kRangeLow) >= kRangeSize) ++i;
  return i;
}

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
constexpr bool is_alnum(char c) { return is_digit(c) || is_upper(c) || (c >= 'a' && c <= 'z'); }
constexpr char lower(char c) { return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c; }
constexpr bool is_key_char(char c) { return is_alnum(c) || c == '_' || c == '-' || c == '.'; }
constexpr bool is_space(char c) { return c == ' ' || c == '\t'; }
constexpr bool is_blank(char c) { return is_space(c) || c == '\n' || c == '\r'; }

bool ends_with_nocase(std::string_view text, std::string_view suffix) {
  if (text.size() < suffix.size()) return false;
  text.remove_prefix(text.size() - suffix.size());
  for (std::size_t i = 0; i < suffix.size(); ++i)
    if (lower(text[i]) != suffix[i]) return false;
  return true;
}

// Keys whose value is a secret, matched as a case-insensitive suffix of the key
// ("DB_PASSWORD", "x-auth-token"). Every one ends in d, n, t or y: the quick
// reject of "12:34" and most "key=value" pairs.
constexpr std::string_view kSecretKeys[] = {
    "password", "passwd", "pwd", "token", "secret", "api_key", "apikey", "access_token",
    "client_secret", "secret_access_key", "private_key", "privatekey", "authorization"};

bool secret_key_last_letter(char c) {
  c = lower(c);
  return c == 'd' || c == 'n' || c == 't' || c == 'y';
}

std::optional<std::string_view> secret_key(std::string_view key) {
  for (std::string_view k : kSecretKeys)
    if (ends_with_nocase(key, k)) return k;
  return std::nullopt;
}

// `key=value`, `key: value`, `"key":"value"` (also with \" escapes, as in a JSON
// string inside a log line). `sep` is the ':' or '='.
void key_value(std::string_view t, std::size_t sep, Ranges& out) {
  std::size_t k = sep;
  while (k > 0 && is_space(t[k - 1])) --k;
  bool quoted = false;
  if (k > 0 && (t[k - 1] == '"' || t[k - 1] == '\'')) {
    --k;
    quoted = true;
    if (k > 0 && t[k - 1] == '\\') --k;
  }
  if (k == 0 || !secret_key_last_letter(t[k - 1])) return;
  std::size_t ks = k;
  while (ks > 0 && is_key_char(t[ks - 1])) --ks;
  if (quoted && ks > 0 && t[ks - 1] == '\\') --ks;
  const auto key = secret_key(t.substr(ks, k - ks));
  if (!key) return;
  std::size_t v = sep + 1;
  while (v < t.size() && is_space(t[v])) ++v;
  if (v >= t.size()) return;
  std::size_t end = v;
  if (t[v] == '"' || t[v] == '\'') {
    const char q = t[v++];
    end = v;
    while (end < t.size() && t[end] != q && t[end] != '\n') end += t[end] == '\\' ? 2 : 1;
    end = std::min(end, t.size());
  } else if (t[v] == '\\' && v + 1 < t.size() && t[v + 1] == '"') {
    v += 2;
    end = t.find("\\\"", v);
    if (end == std::string_view::npos) end = t.size();
  } else if (*key == "authorization") {
    // The rest of the line: "Bearer x", "Basic x", "AWS4-HMAC-SHA256 Credential=…, Signature=…".
    end = std::min(t.find('\n', v), t.size());
    while (end > v && is_blank(t[end - 1])) --end;
  } else {
    while (end < t.size() && !is_blank(t[end]) && t[end] != '&' && t[end] != ',' && t[end] != ';' &&
           t[end] != '"' && t[end] != '\'' && t[end] != '\\')
      ++end;
  }
  if (end > v && t.substr(v, end - v) != kFiltered) out.push_back({v, end});
}

// scheme://USERINFO@host: the whole userinfo (a DSN's public key, user:password).
void url_userinfo(std::string_view t, std::size_t at, Ranges& out) {
  std::size_t q = at;
  while (q > 0) {
    const char c = t[q - 1];
    if (c == '/' || is_blank(c) || c == '"' || c == '\'' || c == '<' || c == '>' || c == '@' || c == '`')
      break;
    --q;
  }
  if (q == at || q < 4 || t.substr(q - 3, 3) != "://" || !is_alnum(t[q - 4])) return;
  if (t.substr(q, at - q) != kFiltered) out.push_back({q, at});
}

// AKIA/ASIA + 16 of [A-Z0-9], standing alone.
void aws_key_id(std::string_view t, std::size_t a, Ranges& out) {
  if (a + 20 > t.size() || t[a + 2] != 'I' || t[a + 3] != 'A' || (t[a + 1] != 'K' && t[a + 1] != 'S')) return;
  if (a > 0 && is_alnum(t[a - 1])) return;
  for (std::size_t i = a + 4; i < a + 20; ++i)
    if (!is_upper(t[i]) && !is_digit(t[i])) return;
  if (a + 20 < t.size() && is_alnum(t[a + 20])) return;
  out.push_back({a, a + 20});
}

// "-----BEGIN … PRIVATE KEY-----" … "-----END": the body between the markers
// (to the end of the text when the END marker is not in it).
void private_key(std::string_view t, std::size_t dash, Ranges& out) {
  static constexpr std::string_view kBegin = "-----BEGIN ";
  if (t.substr(dash, kBegin.size()) != kBegin) return;
  const std::size_t head_end = t.find("-----", dash + kBegin.size());
  if (head_end == std::string_view::npos) return;
  const std::string_view label = t.substr(dash + kBegin.size(), head_end - dash - kBegin.size());
  if (!ends_with_nocase(label, "private key") || label.find('\n') != std::string_view::npos) return;
  const std::size_t body = head_end + 5;
  std::size_t end = t.find("-----END", body);
  if (end == std::string_view::npos) end = t.size();
  if (end > body && t.substr(body, end - body) != kFiltered) out.push_back({body, end});
}

bool luhn(std::string_view digits) {
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (twice && (d *= 2) > 9) d -= 9;
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

// 13–19 digits, single spaces or dashes between them, passing Luhn. The first
// digit must be 2–6 (the card networks' ranges), which keeps 13-digit
// millisecond timestamps and most ids out.
void card_numbers(std::string_view t, Ranges& out) {
  char buf[20];
  std::size_t i = 0;
  while (i < t.size()) {
    if (!is_digit(t[i]) || (i > 0 && is_alnum(t[i - 1])) || (i > 1 && t[i - 1] == '.' && is_digit(t[i - 2]))) {
      ++i;
      continue;
    }
    const std::size_t start = i;
    std::size_t count = 0;
    std::size_t end = i;
    while (end < t.size()) {
      if (is_digit(t[end])) {
        if (count < sizeof buf) buf[count] = t[end];
        ++count;
        ++end;
      } else if ((t[end] == ' ' || t[end] == '-') && end + 1 < t.size() && is_digit(t[end + 1]) &&
                 is_digit(t[end - 1])) {
        ++end;
      } else {
        break;
      }
    }
    const bool alone = end == t.size() || !(is_alnum(t[end]) || (t[end] == '.' && end + 1 < t.size() &&
                                                                    is_digit(t[end + 1])));
    if (alone && count >= 13 && count <= 19 && buf[0] >= '2' && buf[0] <= '6' &&
        luhn(std::string_view(buf, count)))
      out.push_back({start, end});
    i = end;
  }
}

void find_builtin(std::string_view t, Ranges& out) {
  // `run`: digits of the current card-like run (single spaces or dashes between
  // digits continue it); the card scan runs only when one reaches 13.
  std::size_t run = 0;
  bool card = false;
  const auto* p = reinterpret_cast<const unsigned char*>(t.data());
  const std::size_t n = t.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t kind = kTriggers[p[i]];
    if (kind == None) {  // most bytes: skip the whole stretch
      run = 0;
      i = skip_quiet(p, i + 1, n) - 1;  // the loop's ++i lands on the next candidate
      continue;
    }
    if (kind == Digit) {
      card |= ++run >= 13;
      continue;
    }
    if (run > 0 && !((p[i] == ' ' || p[i] == '-') && i + 1 < n && is_digit(t[i + 1]))) run = 0;
    switch (kind) {
      case Separator: key_value(t, i, out); break;
      case At: url_userinfo(t, i, out); break;
      case UpperA: aws_key_id(t, i, out); break;
      case Dash:
        if (i + 10 < n && p[i + 1] == '-') private_key(t, i, out);
        break;
      default: break;
    }
  }
  if (card) card_numbers(t, out);
}

bool apply(std::string& text, Ranges& ranges) {
  if (ranges.empty()) return false;
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
  std::string out;
  out.reserve(text.size());
  std::size_t at = 0;
  for (std::size_t i = 0; i < ranges.size();) {
    std::size_t begin = ranges[i].begin, end = ranges[i].end;
    for (++i; i < ranges.size() && ranges[i].begin <= end; ++i) end = std::max(end, ranges[i].end);
    if (begin < at) begin = at;  // cannot happen after merging; kept for safety
    out.append(text, at, begin - at);
    out += kFiltered;
    at = end;
  }
  out.append(text, at, std::string::npos);
  text = std::move(out);
  return true;
}

void scrub_json_value(const Scrubber& s, nlohmann::json& value, bool secret_value) {
  if (value.is_string()) {
    auto& text = value.get_ref<std::string&>();
    if (secret_value && !text.empty()) {
      text = kFiltered;
    } else {
      s.scrub(text);
    }
  } else if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it)
      scrub_json_value(s, it.value(), secret_key(it.key()).has_value());
  } else if (value.is_array()) {
    for (auto& item : value) scrub_json_value(s, item, false);
  }
}

// A private key printed over several lines leaves its body in breadcrumbs of
// their own: every message between a BEGIN … PRIVATE KEY line without its END
// and the END line goes.
void private_key_breadcrumbs(nlohmann::json& event) {
  auto crumbs = event.find("breadcrumbs");
  if (crumbs == event.end() || !crumbs->is_object()) return;
  auto values = crumbs->find("values");
  if (values == crumbs->end() || !values->is_array()) return;
  bool inside = false;
  for (auto& crumb : *values) {
    auto message = crumb.find("message");
    if (message == crumb.end() || !message->is_string()) continue;
    auto& text = message->get_ref<std::string&>();
    const bool ends = text.find("-----END") != std::string::npos;
    if (inside) {
      if (!ends) text = kFiltered;
      inside = !ends;
    } else if (!ends && text.find("-----BEGIN ") != std::string::npos &&
               text.find("PRIVATE KEY-----") != std::string::npos) {
      inside = true;
    }
  }
}

}  // namespace

Scrubber Scrubber::from(const config::Config& config) {
  return with_patterns(config.scrub_patterns, config.scrub);
}

Scrubber Scrubber::with_patterns(const std::vector<std::string>& patterns, bool enabled) {
  Scrubber s;
  s.enabled_ = enabled;
  if (!enabled || patterns.empty()) return s;
  auto compiled = std::make_shared<std::vector<std::regex>>();
  for (const std::string& p : patterns) {
    try {
      compiled->emplace_back(p, std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error&) {
      // config/options rejected it with a warning already; nothing to add here.
    }
  }
  if (!compiled->empty()) s.patterns_ = std::move(compiled);
  return s;
}

bool Scrubber::scrub(std::string& text) const {
  if (!enabled_ || text.empty()) return false;
  Ranges ranges;
  find_builtin(text, ranges);
  bool changed = apply(text, ranges);
  if (patterns_) {
    for (const std::regex& re : *patterns_) {
      if (!std::regex_search(text, re)) continue;
      text = std::regex_replace(text, re, std::string(kFiltered));
      changed = true;
    }
  }
  return changed;
}

bool Scrubber::has_secrets(std::string_view text) const {
  if (!enabled_ || text.empty()) return false;
  Ranges ranges;
  find_builtin(text, ranges);
  if (!ranges.empty()) return true;
  if (patterns_)
    for (const std::regex& re : *patterns_)
      if (std::regex_search(text.begin(), text.end(), re)) return true;
  return false;
}

void Scrubber::scrub_json(nlohmann::json& value) const {
  if (enabled_) scrub_json_value(*this, value, false);
}

void Scrubber::scrub_event(BuiltEvent& event) const {
  if (!enabled_) return;
  scrub_json(event.event);
  private_key_breadcrumbs(event.event);
  for (Attachment& a : event.attachments)
    if (a.content_type.rfind("text/", 0) == 0 || a.content_type == "application/json") scrub(a.data);
}

}  // namespace crashwrap::sinks
