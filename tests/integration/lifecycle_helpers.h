// Shared by the lifecycle integration tests (sessions, check-ins, restarts):
// the session updates and check-ins a loopback receiver accepted.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "integration/delivery_helpers.h"

namespace crashwrap::test::lifecycle {

using namespace std::chrono_literals;
using delivery::wrap;

// crashwrap with a release and a known did, delivering to `rx`.
inline ProcessOptions with_release(const std::string& spool, const Receiver& rx, std::vector<std::string> options,
                                   std::vector<std::string> child) {
  std::vector<std::string> all = {"--dsn", rx.dsn(), "--release", "app@1.0", "--session-did", "host-a"};
  all.insert(all.end(), options.begin(), options.end());
  ProcessOptions o = wrap(spool, all, std::move(child));
  o.env_unset.push_back("SENTRY_RELEASE");
  o.env_unset.push_back("SENTRY_ENVIRONMENT");
  return o;
}

struct Item {
  nlohmann::json payload;
  std::size_t envelope = 0;       // index among accepted envelopes
  bool with_event = false;        // its envelope also holds an event
  nlohmann::json event;           // that event
};

// Every item of `type` ("session", "check_in") in arrival order.
inline std::vector<Item> items_of(const Receiver& rx, std::string_view type) {
  std::vector<Item> out;
  const auto envelopes = rx.envelopes();
  for (std::size_t i = 0; i < envelopes.size(); ++i)
    for (const auto& item : envelopes[i].parsed.items)
      if (item.type() == type) {
        Item it{nlohmann::json::parse(item.payload), i, envelopes[i].item("event") != nullptr, envelopes[i].event()};
        out.push_back(std::move(it));
      }
  return out;
}

inline std::size_t count_of(const Receiver& rx, std::string_view type) { return items_of(rx, type).size(); }

}  // namespace crashwrap::test::lifecycle
