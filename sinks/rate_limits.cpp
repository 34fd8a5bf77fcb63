#include "sinks/rate_limits.h"

#include <time.h>

#include <charconv>
#include <cmath>
#include <string>
#include <vector>

namespace crashwrap::sinks {
namespace {

using std::chrono::milliseconds;

// A server answering with a year-long limit is either wrong or means "stop";
// either way a month keeps the spool's retry loop alive without hammering.
constexpr milliseconds kMaxLimit = std::chrono::hours(24 * 30);
constexpr milliseconds kDefaultRetryAfter = std::chrono::seconds(60);

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    auto pos = s.find(sep);
    out.push_back(s.substr(0, pos));
    if (pos == std::string_view::npos) return out;
    s.remove_prefix(pos + 1);
  }
}

std::optional<double> parse_seconds(std::string_view s) {
  s = trim(s);
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v) || v < 0) return std::nullopt;
  return v;
}

milliseconds to_length(double seconds) {
  double ms = std::ceil(seconds * 1000.0);
  if (ms > static_cast<double>(kMaxLimit.count())) return kMaxLimit;
  return milliseconds(static_cast<long long>(ms));
}

long long to_ms(Timestamp t) {
  return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string_view item_category(std::string_view type) noexcept {
  if (type == "event") return "error";
  if (type == "check_in") return "monitor";
  if (type == "log") return "log_item";
  if (type == "client_report") return "internal";
  if (type == "sessions") return "session";
  if (type == "replay_event" || type == "replay_recording" || type == "replay_video") return "replay";
  if (type == "statsd" || type == "metric_buckets") return "metric_bucket";
  if (type == "user_report") return "user_report_v2";
  return type;  // attachment, session, transaction, profile, span, feedback, …
}

// An HTTP-date (RFC 9110 5.6.7): IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT",
// and the obsolete RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT" and asctime
// "Sun Nov  6 08:49:37 1994" forms that recipients must accept. Always UTC.
static std::optional<time_t> parse_http_date(std::string_view value) {
  const std::string text(value);
  for (const char* format : {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"}) {
    struct tm tm {};
    const char* end = ::strptime(text.c_str(), format, &tm);
    if (end != nullptr && *end == '\0') return ::timegm(&tm);
  }
  return std::nullopt;
}

std::optional<milliseconds> parse_retry_after(std::string_view value, Timestamp now) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (auto secs = parse_seconds(value)) return to_length(*secs);
  const auto when = parse_http_date(value);
  if (!when) return std::nullopt;
  auto at = std::chrono::system_clock::from_time_t(*when);
  if (at <= now) return milliseconds(0);
  auto d = std::chrono::duration_cast<milliseconds>(at - now);
  return d > kMaxLimit ? kMaxLimit : d;
}

void RateLimits::limit(const std::string& category, milliseconds length, Timestamp now) {
  if (length <= milliseconds(0)) return;
  Timestamp until = now + length;
  auto it = limits_.find(category);
  if (it != limits_.end() && it->second.until >= until) return;
  limits_[category] = Limit{until, length};
}

void RateLimits::update(long status, std::string_view retry_after,
                        std::string_view sentry_rate_limits, Timestamp now) {
  expire(now);
  if (!trim(sentry_rate_limits).empty()) {
    for (std::string_view entry : split(sentry_rate_limits, ',')) {
      entry = trim(entry);
      if (entry.empty()) continue;
      auto fields = split(entry, ':');
      auto secs = parse_seconds(fields[0]);
      if (!secs) continue;
      milliseconds length = to_length(*secs);
      std::string_view cats = fields.size() > 1 ? trim(fields[1]) : std::string_view{};
      if (cats.empty()) {
        limit("", length, now);
        continue;
      }
      for (std::string_view c : split(cats, ';')) {
        c = trim(c);
        if (!c.empty()) limit(std::string(c), length, now);
      }
    }
    return;
  }
  if (status == 429) limit("", parse_retry_after(retry_after, now).value_or(kDefaultRetryAfter), now);
}

void RateLimits::expire(Timestamp now) {
  for (auto it = limits_.begin(); it != limits_.end();) {
    Limit& l = it->second;
    // The clock went backwards: the limit can't outlast its own length from now.
    if (l.until > now + l.length) l.until = now + l.length;
    if (l.until <= now) {
      it = limits_.erase(it);
    } else {
      ++it;
    }
  }
}

std::optional<Timestamp> RateLimits::limited_until(std::string_view category, Timestamp now) {
  expire(now);
  std::optional<Timestamp> until;
  auto consider = [&](std::string_view key) {
    auto it = limits_.find(key);
    if (it != limits_.end() && (!until || it->second.until > *until)) until = it->second.until;
  };
  consider("");
  if (!category.empty()) consider(category);
  return until;
}

bool RateLimits::is_limited(std::string_view category, Timestamp now) {
  return limited_until(category, now).has_value();
}

std::optional<Timestamp> RateLimits::next_expiry(Timestamp now) {
  expire(now);
  std::optional<Timestamp> first;
  for (const auto& [_, l] : limits_)
    if (!first || l.until < *first) first = l.until;
  return first;
}

bool RateLimits::empty(Timestamp now) {
  expire(now);
  return limits_.empty();
}

void RateLimits::merge(const RateLimits& other) {
  for (const auto& [category, l] : other.limits_) {
    auto it = limits_.find(category);
    if (it == limits_.end() || it->second.until < l.until) limits_[category] = l;
  }
}

std::string RateLimits::serialize() const {
  std::string out;
  for (const auto& [category, l] : limits_) {
    out += category.empty() ? std::string("*") : category;
    out += ' ';
    out += std::to_string(to_ms(l.until));
    out += ' ';
    out += std::to_string(l.length.count());
    out += '\n';
  }
  return out;
}

RateLimits RateLimits::parse(std::string_view text) {
  RateLimits r;
  for (std::string_view line : split(text, '\n')) {
    auto f = split(trim(line), ' ');
    if (f.size() != 3 || f[0].empty()) continue;
    long long until = 0, length = 0;
    auto a = std::from_chars(f[1].data(), f[1].data() + f[1].size(), until);
    auto b = std::from_chars(f[2].data(), f[2].data() + f[2].size(), length);
    if (a.ec != std::errc() || b.ec != std::errc() || length <= 0) continue;
    if (milliseconds(length) > kMaxLimit) length = kMaxLimit.count();
    std::string category = f[0] == "*" ? std::string() : std::string(f[0]);
    r.limits_[category] = Limit{Timestamp(milliseconds(until)), milliseconds(length)};
  }
  return r;
}

}  // namespace crashwrap::sinks
