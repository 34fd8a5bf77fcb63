// A loopback Sentry ingestion endpoint for tests (and, through receiver_main,
// for benchmarks and manual use).
//
// Binds 127.0.0.1 (port 0 = any free port) and speaks enough HTTP/1.1 for
// libcurl: keep-alive, Content-Length and chunked request bodies. For each
// POST it checks, in order, and answers 4xx naming the first problem:
//   - the target is [prefix]/api/<project_id>/envelope/ (origin form, or the
//     absolute form a client sends to its proxy)                    (404)
//   - X-Sentry-Auth is "Sentry sentry_version=7, sentry_client=…,
//     sentry_key=<public_key>[, sentry_secret=…]"                   (401/403)
//   - Content-Type is application/x-sentry-envelope                 (415)
//   - Content-Encoding gzip | zstd | identity decodes               (400/415)
//   - the body parses as an envelope with strict framing (sinks/envelope.h) (400)
// Then it answers with the next queued Reply (push_reply) or the default one.
// An envelope answered 2xx is "accepted": stored in order, and its decoded
// body written to the dump directory when one is set (for the conformance
// checker). Every request, valid or not, is recorded in requests().
//
// Faults on demand: any status with headers (500, 429 + Retry-After /
// X-Sentry-Rate-Limits), slow answers, connection resets, wrong-length
// response bodies, and requests that hang until released or the client goes.
//
// Thread-safety: every public method may be called from any thread. The
// destructor stops the server and joins its threads; nothing outlives it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sinks/envelope.h"
#include "support/http_wire.h"

namespace crashwrap::test {

struct Reply {
  enum class Kind : std::uint8_t {
    Normal,       // status line, headers, body
    Reset,        // close with RST instead of answering
    WrongLength,  // announce a longer body than sent, then close
    Hang,         // no answer until release_hung(), stop() or the client closes
  };
  Kind kind = Kind::Normal;
  int status = 200;
  Headers headers;
  std::chrono::milliseconds delay{0};  // wait this long before answering

  static Reply ok() { return {}; }
  static Reply with_status(int status, Headers headers = {});
  // 429 with `Retry-After` and/or `X-Sentry-Rate-Limits` (each omitted when "").
  static Reply rate_limited(std::string retry_after, std::string sentry_rate_limits);
  static Reply slow(std::chrono::milliseconds delay, int status = 200);
  static Reply reset();
  static Reply wrong_length(int status = 200);
  static Reply hang();
};

struct ReceivedRequest {
  std::string method;
  std::string target;          // as sent: origin form, or absolute form through a proxy
  bool absolute_form = false;  // "http://host:port/…": the client used this receiver as its proxy
  Headers headers;
  std::string body;            // decoded body ("" when it could not be decoded)
  std::size_t wire_bytes = 0;  // body bytes as sent
  int answered = 0;            // status sent; 0 for reset / wrong-length / hang
  Reply::Kind reply_kind = Reply::Kind::Normal;
  std::string problem;         // why it was refused before the reply script ("" = valid)
  std::string_view header(std::string_view name) const;  // case-insensitive; "" when absent
};

struct ReceivedEnvelope {
  std::string body;   // decoded bytes as received
  Headers headers;    // HTTP request headers
  sinks::ParsedEnvelope parsed;

  std::string event_id() const { return parsed.event_id(); }
  std::vector<std::string> item_types() const;
  const sinks::ParsedItem* item(std::string_view type) const { return parsed.first(type); }
  // The event item's payload as JSON; null when there is no event item.
  nlohmann::json event() const;
  // The client_report payload as JSON; null when absent.
  nlohmann::json client_report() const;
};

struct ReceiverOptions {
  std::string public_key = "testkey";
  std::string project_id = "42";
  std::string path_prefix;        // "" or "/prefix": the DSN's path before /api/
  std::string dump_dir = default_dump_dir();  // "" = don't write bodies
  std::uint16_t port = 0;         // 0 = a free port

  static ReceiverOptions without_dump() {
    ReceiverOptions o;
    o.dump_dir.clear();
    return o;
  }

  // $CRASHWRAP_CAPTURE_DIR, else <tests build dir>/captured-envelopes: the
  // directory the conformance check (tests/conformance) reads.
  static std::string default_dump_dir();
};

class Receiver {
 public:
  explicit Receiver(ReceiverOptions options = {});  // throws std::runtime_error when it can't bind
  ~Receiver();
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  std::uint16_t port() const { return port_; }
  // http://<public_key>@127.0.0.1:<port><prefix>/<project_id>
  std::string dsn() const;

  void set_default_reply(Reply reply);
  void push_reply(Reply reply);   // answers the next valid request (FIFO, before the default)
  void release_hung();            // hung requests end (connection closed, no answer)
  // Stops listening and closes every connection: later connects are refused.
  void stop();

  std::vector<ReceivedEnvelope> envelopes() const;  // accepted, in arrival order
  std::vector<ReceivedRequest> requests() const;    // every request, in arrival order
  std::size_t envelope_count() const;
  std::size_t request_count() const;
  std::vector<std::string> problems() const;        // refused requests' problems
  std::size_t connections() const;                  // accepted TCP connections so far

  // Waits until `condition` (called under no lock, repeatedly) holds, or `bound` passes.
  bool wait_for(const std::function<bool(const Receiver&)>& condition,
                std::chrono::milliseconds bound) const;
  bool wait_for_envelopes(std::size_t n, std::chrono::milliseconds bound) const;
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds bound) const;

 private:
  void accept_loop();
  void serve(int fd);
  Reply next_reply();
  bool handle(int fd, const http::Request& request);
  int validate(const http::Request& request, ReceivedRequest& record,
               std::optional<ReceivedEnvelope>& envelope) const;
  bool wait_hung(int fd);
  void record(ReceivedRequest request, std::optional<ReceivedEnvelope> envelope);

  ReceiverOptions options_;
  std::uint16_t port_ = 0;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::atomic<bool> stopping_{false};
  std::uint64_t hang_generation_ = 0;
  Reply default_reply_;
  std::deque<Reply> replies_;
  std::vector<ReceivedRequest> requests_;
  std::vector<ReceivedEnvelope> envelopes_;
  std::size_t connections_ = 0;
  std::uint64_t dumped_ = 0;
  std::uint64_t instance_ = 0;

  std::thread acceptor_;
  std::vector<std::thread> workers_;   // guarded by mu_
};

}  // namespace crashwrap::test
