#include "config/monitor_schedule.h"

#include <charconv>
#include <vector>

namespace crashwrap::config {
namespace {

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::optional<std::uint64_t> number(std::string_view s) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return n;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// One crontab field: '*', numbers within [lo, hi], names (JAN, MON), lists,
// ranges and steps. Names are left to the server to check.
bool valid_field(std::string_view f, std::uint64_t lo, std::uint64_t hi) {
  std::size_t i = 0;
  while (i < f.size()) {
    const char c = f[i];
    if (c >= '0' && c <= '9') {
      std::size_t start = i;
      while (i < f.size() && f[i] >= '0' && f[i] <= '9') ++i;
      auto n = number(f.substr(start, i - start));
      const bool step = start > 0 && f[start - 1] == '/';
      if (!n || (!step && (*n < lo || *n > hi)) || (step && *n == 0)) return false;
      continue;
    }
    const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (!letter && c != '*' && c != ',' && c != '-' && c != '/' && c != '?') return false;
    ++i;
  }
  return !f.empty();
}

std::optional<std::string> macro(std::string_view m) {
  static constexpr std::pair<std::string_view, std::string_view> k[] = {
      {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
      {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"}};
  for (auto [name, value] : k)
    if (name == m) return std::string(value);
  return std::nullopt;
}

std::optional<std::string> interval_unit(std::string_view word) {
  std::string u = lower(word);
  if (u.size() > 1 && u.back() == 's') u.pop_back();
  for (std::string_view known : {"year", "month", "week", "day", "hour", "minute"})
    if (u == known) return u;
  return std::nullopt;
}

}  // namespace

std::optional<MonitorSchedule> parse_monitor_schedule(std::string_view text, std::string& error) {
  const std::vector<std::string_view> w = words(text);
  MonitorSchedule s;
  if (w.size() == 1 && !w[0].empty() && w[0][0] == '@') {
    auto m = macro(lower(w[0]));
    if (!m) {
      error = "is not a crontab macro (@yearly, @monthly, @weekly, @daily, @hourly)";
      return std::nullopt;
    }
    s.crontab = *m;
    return s;
  }
  if (w.size() == 2 && number(w[0])) {
    auto unit = interval_unit(w[1]);
    if (!unit || *number(w[0]) == 0) {
      error = "is not an interval like \"10 minute\" (units: minute, hour, day, week, month, year)";
      return std::nullopt;
    }
    s.type = MonitorSchedule::Type::Interval;
    s.value = *number(w[0]);
    s.unit = *unit;
    return s;
  }
  if (w.size() != 5) {
    error = "has " + std::to_string(w.size()) + " fields, a crontab needs 5 (minute hour day month weekday)";
    return std::nullopt;
  }
  static constexpr std::uint64_t lo[5] = {0, 0, 1, 1, 0}, hi[5] = {59, 23, 31, 12, 7};
  static constexpr const char* names[5] = {"minute", "hour", "day-of-month", "month", "weekday"};
  for (std::size_t i = 0; i < 5; ++i) {
    if (!valid_field(w[i], lo[i], hi[i])) {
      error = "has an invalid " + std::string(names[i]) + " field '" + std::string(w[i]) + "'";
      return std::nullopt;
    }
    s.crontab += (i ? " " : "") + std::string(w[i]);
  }
  return s;
}

}  // namespace crashwrap::config
