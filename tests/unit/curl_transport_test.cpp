#include <catch2/catch.hpp>

#include <dirent.h>

#include "config/dsn.h"
#include "sinks/compression.h"
#include "sinks/curl_transport.h"
#include "support/process.h"
#include "support/receiver.h"

using namespace crashwrap;
using namespace crashwrap::sinks;
using namespace crashwrap::test;
using namespace std::chrono_literals;

namespace {

const parsers::Timestamp t0 = parsers::Timestamp(std::chrono::seconds(1'700'000'000));

std::string envelope(std::string_view event_id = "0123456789abcdef0123456789abcdef") {
  return "{\"event_id\":\"" + std::string(event_id) +
         "\",\"sdk\":{\"name\":\"crashwrap\",\"version\":\"0.1.0\"}}\n"
         "{\"type\":\"event\",\"length\":60}\n"
         "{\"platform\":\"native\",\"level\":\"fatal\",\"timestamp\":1700000000}\n"
         "{\"type\":\"attachment\",\"length\":5,\"filename\":\"output-tail.txt\"}\nhello\n";
}

Request request_to(const Receiver& r, config::Compression c = config::Compression::Gzip,
                   std::string_view event_id = "0123456789abcdef0123456789abcdef") {
  std::string error;
  auto dsn = config::parse_dsn(r.dsn(), error);
  REQUIRE(dsn);
  auto req = prepare_request(envelope(event_id), *dsn, c, t0);
  REQUIRE(req);
  return *req;
}

TransportOptions fast(std::chrono::milliseconds timeout = 5000ms) {
  TransportOptions o;
  o.timeout = timeout;
  o.connect_timeout = 1000ms;
  return o;
}

}  // namespace

TEST_CASE("curl delivers gzip and zstd envelopes the receiver accepts", "[curl_transport]") {
  Receiver rx;
  auto t = make_curl_transport(1, fast());
  for (auto c : {config::Compression::Gzip, config::Compression::Zstd, config::Compression::None}) {
    Response r = t->execute(0, request_to(rx, c));
    CHECK(r.error == TransportError::None);
    CHECK(r.status == 200);
    CHECK(r.detail.empty());
  }
  CHECK(rx.problems().empty());
  REQUIRE(rx.envelope_count() == 3);
  auto envs = rx.envelopes();
  CHECK(envs[0].headers.size() > 0);
  CHECK(rx.requests()[0].header("Content-Encoding") == "gzip");
  CHECK(rx.requests()[1].header("Content-Encoding") == "zstd");
  CHECK(rx.requests()[2].header("Content-Encoding").empty());
  for (const auto& e : envs) {
    CHECK(e.event_id() == "0123456789abcdef0123456789abcdef");
    CHECK(e.item_types() == std::vector<std::string>{"event", "attachment"});
    CHECK(e.item("attachment")->payload == "hello");
    CHECK(e.parsed.header["sent_at"] == "2023-11-14T22:13:20.000Z");
    CHECK(e.parsed.header["dsn"] == rx.dsn());
    CHECK(e.event()["level"] == "fatal");
  }
  // One kept-alive connection served all three.
  CHECK(rx.connections() == 1);
}

TEST_CASE("429 headers, 5xx and 413 statuses come back as they were sent", "[curl_transport]") {
  Receiver rx;
  rx.push_reply(Reply::rate_limited("17", "60:error:organization:quota"));
  rx.push_reply(Reply::with_status(503, {{"Retry-After", "3"}}));
  rx.push_reply(Reply::with_status(413));
  auto t = make_curl_transport(1, fast());
  Response a = t->execute(0, request_to(rx));
  CHECK(a.status == 429);
  CHECK(a.retry_after == "17");
  CHECK(a.rate_limits == "60:error:organization:quota");
  Response b = t->execute(0, request_to(rx));
  CHECK(b.status == 503);
  CHECK(b.retry_after == "3");
  CHECK(b.rate_limits.empty());
  Response c = t->execute(0, request_to(rx));
  CHECK(c.status == 413);
  CHECK(c.retry_after.empty());
  CHECK(rx.envelope_count() == 0);
  CHECK(rx.request_count() == 3);
}

TEST_CASE("rate-limit headers on a 200 are reported too", "[curl_transport]") {
  Receiver rx;
  rx.push_reply(Reply::with_status(200, {{"X-Sentry-Rate-Limits", "30:attachment"}}));
  auto t = make_curl_transport(1, fast());
  Response r = t->execute(0, request_to(rx));
  CHECK(r.status == 200);
  CHECK(r.rate_limits == "30:attachment");
}

TEST_CASE("resets, hangs and refused connections are transport errors", "[curl_transport]") {
  Receiver rx;
  auto t = make_curl_transport(1, fast(500ms));
  rx.push_reply(Reply::reset());
  Response reset = t->execute(0, request_to(rx));
  CHECK(reset.error == TransportError::Network);
  CHECK(reset.status == 0);
  CHECK_FALSE(reset.detail.empty());

  rx.push_reply(Reply::hang());
  auto start = std::chrono::steady_clock::now();
  Response hung = t->execute(0, request_to(rx));
  CHECK(hung.error == TransportError::Timeout);
  CHECK(std::chrono::steady_clock::now() - start < 3s);

  std::string dsn_text = rx.dsn();
  rx.stop();
  std::string error;
  auto dsn = config::parse_dsn(dsn_text, error);
  REQUIRE(dsn);
  Response refused = t->execute(0, *prepare_request(envelope(), *dsn, config::Compression::Gzip, t0));
  CHECK(refused.error == TransportError::Connect);
}

TEST_CASE("https to a server that does not speak TLS is a TLS failure", "[curl_transport]") {
  Receiver rx;
  std::string error;
  auto dsn = config::parse_dsn("https://testkey@127.0.0.1:" + std::to_string(rx.port()) + "/42", error);
  REQUIRE(dsn);
  TransportOptions o = fast(3000ms);
  o.ca_file = "/nonexistent/ca.pem";
  auto t = make_curl_transport(1, o);
  Response r = t->execute(0, *prepare_request(envelope(), *dsn, config::Compression::Gzip, t0));
  CHECK(r.error == TransportError::Tls);
  CHECK(r.status == 0);
  CHECK(rx.envelope_count() == 0);
}

TEST_CASE("a complete 200 with a short body still counts as answered", "[curl_transport]") {
  Receiver rx;
  rx.push_reply(Reply::wrong_length(200));
  auto t = make_curl_transport(1, fast());
  Response r = t->execute(0, request_to(rx));
  CHECK(r.error == TransportError::None);
  CHECK(r.status == 200);
  CHECK(rx.envelope_count() == 1);
}

TEST_CASE("a hung slot does not hold up another slot", "[curl_transport]") {
  Receiver slow, quick;
  slow.set_default_reply(Reply::hang());
  auto t = make_curl_transport(2, fast(3000ms));
  t->submit(0, request_to(slow));
  // The transport only makes progress inside wait().
  for (int i = 0; i < 100 && slow.request_count() == 0; ++i) CHECK(t->wait(50ms).empty());
  REQUIRE(slow.request_count() == 1);
  CHECK(t->busy(0));
  auto start = std::chrono::steady_clock::now();
  t->submit(1, request_to(quick));
  std::vector<Completion> done;
  while (done.empty() && std::chrono::steady_clock::now() - start < 5s) done = t->wait(1000ms);
  REQUIRE(done.size() == 1);
  CHECK(done[0].slot == 1);
  CHECK(done[0].response.status == 200);
  CHECK(std::chrono::steady_clock::now() - start < 1s);
  CHECK(t->busy(0));
  slow.release_hung();
  done.clear();
  while (done.empty() && std::chrono::steady_clock::now() - start < 10s) done = t->wait(1000ms);
  REQUIRE(done.size() == 1);
  CHECK(done[0].slot == 0);
  CHECK(done[0].response.error != TransportError::None);
  CHECK_FALSE(t->busy(0));
}

TEST_CASE("wake interrupts a wait", "[curl_transport]") {
  auto t = make_curl_transport(1, fast());
  std::thread waker([&] {
    std::this_thread::sleep_for(100ms);
    t->wake();
  });
  auto start = std::chrono::steady_clock::now();
  auto done = t->wait(10s);
  waker.join();
  CHECK(done.empty());
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  // A wake before the wait is not lost.
  t->wake();
  start = std::chrono::steady_clock::now();
  t->wait(10s);
  CHECK(std::chrono::steady_clock::now() - start < 1s);
}

TEST_CASE("a wrong key is refused by the receiver with 403", "[curl_transport]") {
  ReceiverOptions o;
  o.public_key = "right";
  Receiver rx(o);
  std::string error;
  auto dsn = config::parse_dsn("http://wrong@127.0.0.1:" + std::to_string(rx.port()) + "/42", error);
  REQUIRE(dsn);
  auto t = make_curl_transport(1, fast());
  Response r = t->execute(0, *prepare_request(envelope(), *dsn, config::Compression::Gzip, t0));
  CHECK(r.status == 403);
  REQUIRE(rx.problems().size() == 1);
  CHECK(rx.problems()[0] == "X-Sentry-Auth sentry_key 'wrong' is not the project's key");
}

TEST_CASE("the disk transport writes bodies; the null transport answers as told", "[curl_transport]") {
  TempDir dir;
  auto d = make_disk_transport(1, dir.path());
  Receiver rx(ReceiverOptions::without_dump());
  Response r = d->execute(0, request_to(rx, config::Compression::Zstd));
  CHECK(r.status == 200);
  DIR* dp = ::opendir(dir.path().c_str());
  REQUIRE(dp);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(dp))
    if (e->d_name[0] != '.') names.push_back(e->d_name);
  ::closedir(dp);
  REQUIRE(names.size() == 1);
  CHECK(names[0].size() > 13);
  CHECK(names[0].substr(names[0].size() - 13) == ".envelope.zst");
  Decoded body = decompress(read_file(dir.file(names[0])), Codec::Zstd, 1 << 20);
  REQUIRE(body.status == DecodeStatus::Ok);
  CHECK(body.data.find("\"sent_at\":\"2023-11-14T22:13:20.000Z\"") != std::string::npos);

  Response fixed;
  fixed.status = 413;
  auto n = make_null_transport(2, fixed);
  CHECK(n->execute(1, request_to(rx)).status == 413);
  CHECK(n->execute(5, request_to(rx)).error == TransportError::Other);
  CHECK(rx.request_count() == 0);
}
