// Counters of events crashwrap dropped on purpose, reported to the server as
// a `client_report` envelope item (Sentry SDK docs, "Client Reports"):
//   {"timestamp": RFC 3339, "discarded_events": [{"reason","category","quantity"}]}
// One ClientReports per DSN. The counts ride along with the next envelope sent
// to that DSN; after a 2xx the sent counts are subtracted (acknowledge), so
// counts added meanwhile are kept. Persisted in the spool's state area so a
// restart doesn't lose them.
// Not thread-safe: owned by the sender thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "parsers/model.h"

namespace crashwrap::sinks {

enum class DiscardReason : std::uint8_t {
  RatelimitBackoff,  // a server rate limit was in force for the category
  QueueOverflow,     // the spool was full; the oldest entry was removed
  SendError,         // the server rejected it for good (413, other 4xx)
  SampleRate,        // sampled away
  BeforeSend,        // filtered before sending (local deduplication of a crash loop)
};

std::string_view reason_name(DiscardReason r) noexcept;  // "ratelimit_backoff", …
std::optional<DiscardReason> reason_from_name(std::string_view name) noexcept;

class ClientReports {
 public:
  using Key = std::pair<DiscardReason, std::string>;  // (reason, data category)

  void add(DiscardReason reason, std::string_view category, std::uint64_t quantity = 1);
  bool empty() const noexcept { return counts_.empty(); }
  std::uint64_t quantity(DiscardReason reason, std::string_view category) const;
  std::uint64_t total() const noexcept;
  const std::map<Key, std::uint64_t>& counts() const noexcept { return counts_; }

  // The client_report item payload for the current counts, timestamped `now`;
  // at most `max_bytes` long (Relay's limit is 4 KiB): counters that don't fit
  // stay for the next report. `included` receives exactly what the payload
  // carries. "" when there is nothing to report.
  std::string payload(parsers::Timestamp now, ClientReports& included,
                      std::size_t max_bytes = 4096) const;

  // The server accepted a payload carrying `sent`: forget those counts.
  void acknowledge(const ClientReports& sent);
  void merge(const ClientReports& other);

  // Persistence: one "reason category quantity" line per counter; parse()
  // skips lines it cannot read.
  std::string serialize() const;
  static ClientReports parse(std::string_view text);

 private:
  std::map<Key, std::uint64_t> counts_;
};

// An envelope item (header line + payload + "\n") carrying `payload`, ready to
// be appended to an envelope that ends with "\n".
std::string encode_client_report_item(std::string_view payload);

}  // namespace crashwrap::sinks
