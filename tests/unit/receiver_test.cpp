// The test receiver itself, spoken to over raw sockets: what it accepts and
// what it refuses, so the delivery tests can trust it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "support/receiver.h"

using namespace crashwrap::test;
using namespace std::chrono_literals;

namespace {

const std::string kAuth = "X-Sentry-Auth: Sentry sentry_version=7, sentry_client=raw/1, sentry_key=testkey\r\n";
const std::string kBody =
    "{\"event_id\":\"0123456789abcdef0123456789abcdef\"}\n{\"type\":\"event\",\"length\":2}\n{}\n";

int connect_to(const Receiver& rx) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(rx.port());
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

// Sends `request` and reads one response head + Content-Length body (bounded).
std::string round_trip(int fd, const std::string& request) {
  REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
  std::string in;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto head_end = in.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      auto cl = in.find("Content-Length: ");
      std::size_t len = cl == std::string::npos ? 0 : std::stoul(in.substr(cl + 16));
      if (in.size() >= head_end + 4 + len) return in;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
  }
  return in;
}

std::string post(const std::string& target, const std::string& headers, const std::string& body) {
  return "POST " + target + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-sentry-envelope\r\n" + headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

TEST_CASE("keep-alive: several requests on one connection", "[receiver]") {
  Receiver rx(ReceiverOptions::without_dump());
  int fd = connect_to(rx);
  for (int i = 0; i < 3; ++i) {
    std::string r = round_trip(fd, post("/api/42/envelope/", kAuth, kBody));
    CHECK(r.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(r.find("{\"id\":\"0123456789abcdef0123456789abcdef\"}") != std::string::npos);
  }
  ::close(fd);
  CHECK(rx.envelope_count() == 3);
  CHECK(rx.connections() == 1);
}

TEST_CASE("a chunked request body is decoded", "[receiver]") {
  Receiver rx(ReceiverOptions::without_dump());
  int fd = connect_to(rx);
  std::string chunked;
  for (std::size_t i = 0; i < kBody.size(); i += 10) {
    std::string part = kBody.substr(i, 10);
    char size[16];
    std::snprintf(size, sizeof size, "%zx", part.size());
    chunked += std::string(size) + "\r\n" + part + "\r\n";
  }
  chunked += "0\r\n\r\n";
  std::string req = "POST /api/42/envelope/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-sentry-envelope\r\n" +
                    kAuth + "Transfer-Encoding: chunked\r\n\r\n" + chunked;
  CHECK(round_trip(fd, req).rfind("HTTP/1.1 200", 0) == 0);
  ::close(fd);
  REQUIRE(rx.envelope_count() == 1);
  CHECK(rx.envelopes()[0].body == kBody);
}

TEST_CASE("refusals name the problem", "[receiver]") {
  Receiver rx(ReceiverOptions::without_dump());
  int fd = connect_to(rx);
  CHECK(round_trip(fd, post("/api/43/envelope/", kAuth, kBody)).rfind("HTTP/1.1 404", 0) == 0);
  CHECK(round_trip(fd, post("/api/42/envelope/", "", kBody)).rfind("HTTP/1.1 401", 0) == 0);
  CHECK(round_trip(fd, post("/api/42/envelope/",
                          "X-Sentry-Auth: Sentry sentry_version=7, sentry_client=a/1, sentry_key=other\r\n", kBody))
            .rfind("HTTP/1.1 403", 0) == 0);
  CHECK(round_trip(fd, post("/api/42/envelope/", kAuth + "Content-Encoding: br\r\n", kBody)).rfind("HTTP/1.1 415", 0) == 0);
  CHECK(round_trip(fd, post("/api/42/envelope/", kAuth, kBody + "\n")).rfind("HTTP/1.1 400", 0) == 0);
  CHECK(round_trip(fd, post("/api/42/envelope/", kAuth + "Content-Encoding: gzip\r\n", kBody)).rfind("HTTP/1.1 400", 0) == 0);
  ::close(fd);
  CHECK(rx.envelope_count() == 0);
  auto problems = rx.problems();
  REQUIRE(problems.size() == 6);
  CHECK(problems[0] == "target /api/43/envelope/ is not /api/42/envelope/");
  CHECK(problems[1] == "missing X-Sentry-Auth header");
  CHECK(problems[2] == "X-Sentry-Auth sentry_key 'other' is not the project's key");
  CHECK(problems[3] == "Content-Encoding 'br' is not supported");
  CHECK(problems[4].rfind("invalid envelope: ", 0) == 0);
  CHECK(problems[5] == "body does not decode as gzip");
}

TEST_CASE("queued replies come first, then the default", "[receiver]") {
  Receiver rx(ReceiverOptions::without_dump());
  rx.set_default_reply(Reply::with_status(503));
  rx.push_reply(Reply::rate_limited("7", "7:error"));
  int fd = connect_to(rx);
  std::string first = round_trip(fd, post("/api/42/envelope/", kAuth, kBody));
  CHECK(first.rfind("HTTP/1.1 429", 0) == 0);
  CHECK(first.find("Retry-After: 7\r\n") != std::string::npos);
  CHECK(first.find("X-Sentry-Rate-Limits: 7:error\r\n") != std::string::npos);
  CHECK(round_trip(fd, post("/api/42/envelope/", kAuth, kBody)).rfind("HTTP/1.1 503", 0) == 0);
  ::close(fd);
  CHECK(rx.envelope_count() == 0);
  CHECK(rx.request_count() == 2);
  CHECK(rx.requests()[0].answered == 429);
}

TEST_CASE("a hung request ends when the client goes away", "[receiver]") {
  Receiver rx(ReceiverOptions::without_dump());
  rx.push_reply(Reply::hang());
  int fd = connect_to(rx);
  std::string req = post("/api/42/envelope/", kAuth, kBody);
  REQUIRE(::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
  REQUIRE(rx.wait_for_requests(1, 5s));
  ::close(fd);
  auto start = std::chrono::steady_clock::now();
  rx.stop();  // joins the connection's thread: quick only if it noticed the close
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  CHECK(rx.requests()[0].answered == 0);
}
