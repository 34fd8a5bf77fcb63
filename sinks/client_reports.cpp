#include "sinks/client_reports.h"

#include <charconv>
#include <ctime>

#include <nlohmann/json.hpp>

namespace crashwrap::sinks {
namespace {

constexpr std::pair<DiscardReason, std::string_view> kNames[] = {
    {DiscardReason::RatelimitBackoff, "ratelimit_backoff"},
    {DiscardReason::QueueOverflow, "queue_overflow"},
    {DiscardReason::SendError, "send_error"},
    {DiscardReason::SampleRate, "sample_rate"},
    {DiscardReason::BeforeSend, "before_send"},
};

std::string rfc3339(parsers::Timestamp t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Category names come from our own code, but a persisted file may be edited:
// keep only what is safe in a one-token line and a JSON string.
bool valid_category(std::string_view c) {
  if (c.empty() || c.size() > 64) return false;
  for (char ch : c)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_')) return false;
  return true;
}

}  // namespace

std::string_view reason_name(DiscardReason r) noexcept {
  for (const auto& [reason, name] : kNames)
    if (reason == r) return name;
  return "unknown";
}

std::optional<DiscardReason> reason_from_name(std::string_view name) noexcept {
  for (const auto& [reason, n] : kNames)
    if (n == name) return reason;
  return std::nullopt;
}

void ClientReports::add(DiscardReason reason, std::string_view category, std::uint64_t quantity) {
  if (quantity == 0 || !valid_category(category)) return;
  counts_[Key{reason, std::string(category)}] += quantity;
}

std::uint64_t ClientReports::quantity(DiscardReason reason, std::string_view category) const {
  auto it = counts_.find(Key{reason, std::string(category)});
  return it == counts_.end() ? 0 : it->second;
}

std::uint64_t ClientReports::total() const noexcept {
  std::uint64_t n = 0;
  for (const auto& [_, q] : counts_) n += q;
  return n;
}

std::string ClientReports::payload(parsers::Timestamp now, ClientReports& included,
                                   std::size_t max_bytes) const {
  included = ClientReports{};
  if (counts_.empty()) return {};
  nlohmann::json report = {{"timestamp", rfc3339(now)},
                           {"discarded_events", nlohmann::json::array()}};
  std::string out;
  for (const auto& [key, q] : counts_) {
    report["discarded_events"].push_back(
        {{"reason", reason_name(key.first)}, {"category", key.second}, {"quantity", q}});
    std::string candidate = report.dump();
    if (candidate.size() > max_bytes) break;
    out = std::move(candidate);
    included.counts_[key] = q;
  }
  return out;
}

void ClientReports::acknowledge(const ClientReports& sent) {
  if (&sent == this) {
    counts_.clear();
    return;
  }
  for (const auto& [key, q] : sent.counts_) {
    auto it = counts_.find(key);
    if (it == counts_.end()) continue;
    if (it->second <= q) {
      counts_.erase(it);
    } else {
      it->second -= q;
    }
  }
}

void ClientReports::merge(const ClientReports& other) {
  for (const auto& [key, q] : other.counts_) counts_[key] += q;
}

std::string ClientReports::serialize() const {
  std::string out;
  for (const auto& [key, q] : counts_) {
    out += reason_name(key.first);
    out += ' ';
    out += key.second;
    out += ' ';
    out += std::to_string(q);
    out += '\n';
  }
  return out;
}

ClientReports ClientReports::parse(std::string_view text) {
  ClientReports r;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    auto s1 = line.find(' ');
    auto s2 = s1 == std::string_view::npos ? s1 : line.find(' ', s1 + 1);
    if (s2 == std::string_view::npos) continue;
    auto reason = reason_from_name(line.substr(0, s1));
    std::string_view category = line.substr(s1 + 1, s2 - s1 - 1);
    std::string_view num = line.substr(s2 + 1);
    std::uint64_t q = 0;
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), q);
    if (!reason || ec != std::errc() || p != num.data() + num.size()) continue;
    r.add(*reason, category, q);
  }
  return r;
}

std::string encode_client_report_item(std::string_view payload) {
  std::string item = R"({"type":"client_report","length":)";
  item += std::to_string(payload.size());
  item += "}\n";
  item += payload;
  item += '\n';
  return item;
}

}  // namespace crashwrap::sinks
