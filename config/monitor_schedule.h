// The schedule of a cron monitor (--monitor-schedule), as Sentry's check-in
// monitor_config takes it: a crontab line of five fields ("0 3 * * *", also
// "@daily" and friends) or an interval ("10 minute", "2 hours"). Pure; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crashwrap::config {

struct MonitorSchedule {
  enum class Type { Crontab, Interval } type = Type::Crontab;
  std::string crontab;      // Crontab: the five fields, single-spaced
  std::uint64_t value = 0;  // Interval: how many units
  std::string unit;         // Interval: year | month | week | day | hour | minute
};

// nullopt and `error` set to the phrase completing "'<text>' …" when the text
// is neither form, e.g. "has 4 fields, a crontab needs 5".
std::optional<MonitorSchedule> parse_monitor_schedule(std::string_view text, std::string& error);

}  // namespace crashwrap::config
