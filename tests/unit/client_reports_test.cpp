#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "sinks/client_reports.h"

using namespace crashwrap::sinks;
using namespace std::chrono_literals;

namespace {
// 1700000000 = 2023-11-14T22:13:20Z
const crashwrap::parsers::Timestamp t0 = crashwrap::parsers::Timestamp(std::chrono::seconds(1'700'000'000));
}

TEST_CASE("reason names are Sentry's", "[client_reports]") {
  CHECK(reason_name(DiscardReason::RatelimitBackoff) == "ratelimit_backoff");
  CHECK(reason_name(DiscardReason::QueueOverflow) == "queue_overflow");
  CHECK(reason_name(DiscardReason::SendError) == "send_error");
  CHECK(reason_name(DiscardReason::SampleRate) == "sample_rate");
  CHECK(reason_name(DiscardReason::BeforeSend) == "before_send");
  CHECK(reason_from_name("send_error") == DiscardReason::SendError);
  CHECK_FALSE(reason_from_name("nope"));
}

TEST_CASE("counters are keyed by reason and category", "[client_reports]") {
  ClientReports r;
  CHECK(r.empty());
  r.add(DiscardReason::RatelimitBackoff, "error");
  r.add(DiscardReason::RatelimitBackoff, "error", 2);
  r.add(DiscardReason::RatelimitBackoff, "attachment");
  r.add(DiscardReason::QueueOverflow, "error", 5);
  r.add(DiscardReason::SendError, "error", 0);      // nothing
  r.add(DiscardReason::SendError, "Bad Category");  // rejected
  CHECK(r.quantity(DiscardReason::RatelimitBackoff, "error") == 3);
  CHECK(r.quantity(DiscardReason::RatelimitBackoff, "attachment") == 1);
  CHECK(r.quantity(DiscardReason::QueueOverflow, "error") == 5);
  CHECK(r.counts().size() == 3);
  CHECK(r.total() == 9);
}

TEST_CASE("the payload is a client_report as Sentry defines it", "[client_reports]") {
  ClientReports r;
  r.add(DiscardReason::QueueOverflow, "error", 2);
  r.add(DiscardReason::RatelimitBackoff, "attachment");
  ClientReports included;
  std::string p = r.payload(t0, included);
  CHECK(p ==
        R"({"discarded_events":[{"category":"attachment","quantity":1,"reason":"ratelimit_backoff"},)"
        R"({"category":"error","quantity":2,"reason":"queue_overflow"}],"timestamp":"2023-11-14T22:13:20Z"})");
  CHECK(included.total() == 3);
  CHECK(encode_client_report_item(p) ==
        "{\"type\":\"client_report\",\"length\":" + std::to_string(p.size()) + "}\n" + p + "\n");

  ClientReports none;
  CHECK(ClientReports{}.payload(t0, none).empty());
  CHECK(none.empty());
}

TEST_CASE("a payload never exceeds the size cap; the rest waits", "[client_reports]") {
  ClientReports r;
  for (int i = 0; i < 200; ++i) r.add(DiscardReason::SendError, "cat_" + std::to_string(i));
  ClientReports included;
  std::string p = r.payload(t0, included, 4096);
  CHECK(p.size() <= 4096);
  CHECK(p.size() > 3000);
  auto j = nlohmann::json::parse(p);
  CHECK(j["discarded_events"].size() == included.counts().size());
  r.acknowledge(included);
  CHECK(r.total() == 200 - included.total());
}

TEST_CASE("acknowledge keeps what was counted after the snapshot", "[client_reports]") {
  ClientReports r;
  r.add(DiscardReason::RatelimitBackoff, "error", 2);
  ClientReports sent;
  r.payload(t0, sent);
  r.add(DiscardReason::RatelimitBackoff, "error", 3);
  r.add(DiscardReason::SendError, "error");
  r.acknowledge(sent);
  CHECK(r.quantity(DiscardReason::RatelimitBackoff, "error") == 3);
  CHECK(r.quantity(DiscardReason::SendError, "error") == 1);
  r.acknowledge(r);
  CHECK(r.empty());
}

TEST_CASE("counters survive serialize/parse (restart)", "[client_reports]") {
  ClientReports r;
  r.add(DiscardReason::QueueOverflow, "error", 12);
  r.add(DiscardReason::BeforeSend, "error", 1);
  std::string text = r.serialize();
  CHECK(text == "queue_overflow error 12\nbefore_send error 1\n");
  ClientReports back = ClientReports::parse(text + "bogus error 3\nsend_error error x\nsend_error\n");
  CHECK(back.serialize() == text);
  back.merge(r);
  CHECK(back.quantity(DiscardReason::QueueOverflow, "error") == 24);
}
