#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "config/dsn.h"
#include "sinks/compression.h"
#include "sinks/envelope.h"
#include "sinks/transport.h"

using namespace crashwrap;
using namespace crashwrap::sinks;

namespace {

config::Dsn dsn_of(std::string_view text) {
  std::string error;
  auto d = config::parse_dsn(text, error);
  INFO(error);
  REQUIRE(d);
  return *d;
}

const std::string kEnvelope =
    "{\"event_id\":\"0123456789abcdef0123456789abcdef\",\"sent_at\":\"2020-01-01T00:00:00.000Z\","
    "\"sdk\":{\"name\":\"crashwrap\",\"version\":\"0.1.0\"}}\n"
    "{\"type\":\"event\",\"length\":2}\n{}\n";

// 1700000000 = 2023-11-14T22:13:20Z
const parsers::Timestamp t0 = parsers::Timestamp(std::chrono::seconds(1'700'000'000));

std::string plain_body(const Request& r) {
  Codec codec = Codec::None;
  if (r.header("Content-Encoding") == "gzip") codec = Codec::Gzip;
  if (r.header("Content-Encoding") == "zstd") codec = Codec::Zstd;
  Decoded d = decompress(r.body, codec, 1 << 20);
  REQUIRE(d.status == DecodeStatus::Ok);
  return d.data;
}

}  // namespace

TEST_CASE("the auth header and client name follow Sentry's protocol", "[transport]") {
  const std::string v = CRASHWRAP_VERSION;
  CHECK(client_name() == "crashwrap/" + v);
  CHECK(auth_header(dsn_of("https://abc123@o1.ingest.sentry.io/42")) ==
        "Sentry sentry_version=7, sentry_client=crashwrap/" + v + ", sentry_key=abc123");
  CHECK(auth_header(dsn_of("http://pub:sec@localhost:9000/7")) ==
        "Sentry sentry_version=7, sentry_client=crashwrap/" + v + ", sentry_key=pub, sentry_secret=sec");
}

TEST_CASE("prepare_request builds the envelope POST", "[transport]") {
  config::Dsn dsn = dsn_of("http://pub@127.0.0.1:8080/prefix/42");
  auto r = prepare_request(kEnvelope, dsn, config::Compression::Gzip, t0);
  REQUIRE(r);
  CHECK(r->method == "POST");
  CHECK(r->url == "http://127.0.0.1:8080/prefix/api/42/envelope/");
  REQUIRE(r->headers.size() == 4);
  CHECK(r->headers[0].first == "X-Sentry-Auth");
  CHECK(r->header("x-sentry-auth") == auth_header(dsn));
  CHECK(r->header("Content-Type") == "application/x-sentry-envelope");
  CHECK(r->header("User-Agent") == client_name());
  CHECK(r->header("Content-Encoding") == "gzip");
  CHECK(static_cast<unsigned char>(r->body[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(r->body[1]) == 0x8b);

  std::string body = plain_body(*r);
  std::string error;
  auto parsed = parse_envelope(body, error);
  INFO(error);
  REQUIRE(parsed);
  CHECK(parsed->header["sent_at"] == "2023-11-14T22:13:20.000Z");
  CHECK(parsed->header["dsn"] == "http://pub@127.0.0.1:8080/prefix/42");
  CHECK(parsed->header["event_id"] == "0123456789abcdef0123456789abcdef");
  REQUIRE(parsed->items.size() == 1);
  CHECK(parsed->items[0].payload == "{}");
  // Items are kept byte for byte: only the header line changes.
  CHECK(body.substr(body.find('\n')) == kEnvelope.substr(kEnvelope.find('\n')));
}

TEST_CASE("zstd and no compression", "[transport]") {
  config::Dsn dsn = dsn_of("https://pub@example.com/1");
  auto z = prepare_request(kEnvelope, dsn, config::Compression::Zstd, t0);
  REQUIRE(z);
  CHECK(z->header("Content-Encoding") == "zstd");
  CHECK(detect_codec(z->body) == Codec::Zstd);
  CHECK(plain_body(*z).find("\"sent_at\":\"2023-11-14T22:13:20.000Z\"") != std::string::npos);

  auto n = prepare_request(kEnvelope, dsn, config::Compression::None, t0);
  REQUIRE(n);
  CHECK(n->header("Content-Encoding").empty());
  CHECK(n->headers.size() == 3);
  CHECK(n->body.substr(n->body.find('\n')) == kEnvelope.substr(kEnvelope.find('\n')));
  CHECK(n->url == "https://example.com/api/1/envelope/");
}

TEST_CASE("an envelope without a JSON header line is refused", "[transport]") {
  config::Dsn dsn = dsn_of("https://pub@example.com/1");
  CHECK_FALSE(prepare_request("not json\n{\"type\":\"event\"}\n{}\n", dsn, config::Compression::Gzip, t0));
}

TEST_CASE("transport error names", "[transport]") {
  CHECK(transport_error_name(TransportError::Timeout) == "timeout");
  CHECK(transport_error_name(TransportError::Connect) == "connect");
  CHECK(transport_error_name(TransportError::Tls) == "tls");
}
