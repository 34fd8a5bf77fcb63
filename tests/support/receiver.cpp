#include "support/receiver.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "sinks/compression.h"

namespace crashwrap::test {
namespace {

using http::find_header;
using http::iequals;
using http::kMaxBodyBytes;
using http::reason_phrase;
using http::trim;
using http::write_all;

std::string json_string(std::string_view s) { return nlohmann::json(std::string(s)).dump(); }

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::atomic<std::uint64_t> g_instances{0};

// Checks the X-Sentry-Auth header; "" when it is right.
std::string auth_problem(std::string_view auth, std::string_view key, int& status) {
  status = 401;
  if (auth.empty()) return "missing X-Sentry-Auth header";
  if (auth.substr(0, 7) != "Sentry ") return "X-Sentry-Auth does not start with 'Sentry '";
  std::string_view rest = auth.substr(7);
  std::string version, client, got_key;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view pair = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) return "X-Sentry-Auth part '" + std::string(pair) + "' has no '='";
    std::string_view k = pair.substr(0, eq), v = pair.substr(eq + 1);
    if (k == "sentry_version") version = v;
    if (k == "sentry_client") client = v;
    if (k == "sentry_key") got_key = v;
  }
  if (version != "7") return "X-Sentry-Auth sentry_version is '" + version + "', not 7";
  if (client.empty()) return "X-Sentry-Auth has no sentry_client";
  if (got_key.empty()) return "X-Sentry-Auth has no sentry_key";
  status = 403;
  if (got_key != key) return "X-Sentry-Auth sentry_key '" + got_key + "' is not the project's key";
  return {};
}

}  // namespace

// ------------------------------------------------------------------ values

Reply Reply::with_status(int status, Headers headers) {
  Reply r;
  r.status = status;
  r.headers = std::move(headers);
  return r;
}

Reply Reply::rate_limited(std::string retry_after, std::string sentry_rate_limits) {
  Reply r;
  r.status = 429;
  if (!retry_after.empty()) r.headers.emplace_back("Retry-After", std::move(retry_after));
  if (!sentry_rate_limits.empty()) r.headers.emplace_back("X-Sentry-Rate-Limits", std::move(sentry_rate_limits));
  return r;
}

Reply Reply::slow(std::chrono::milliseconds delay, int status) {
  Reply r;
  r.delay = delay;
  r.status = status;
  return r;
}

Reply Reply::reset() {
  Reply r;
  r.kind = Kind::Reset;
  return r;
}

Reply Reply::wrong_length(int status) {
  Reply r;
  r.kind = Kind::WrongLength;
  r.status = status;
  return r;
}

Reply Reply::hang() {
  Reply r;
  r.kind = Kind::Hang;
  return r;
}

std::string_view ReceivedRequest::header(std::string_view name) const { return find_header(headers, name); }

std::vector<std::string> ReceivedEnvelope::item_types() const {
  std::vector<std::string> out;
  for (const auto& item : parsed.items) out.push_back(item.type());
  return out;
}

nlohmann::json ReceivedEnvelope::event() const {
  const sinks::ParsedItem* e = item("event");
  if (!e) return nullptr;
  return nlohmann::json::parse(e->payload, nullptr, false);
}

nlohmann::json ReceivedEnvelope::client_report() const {
  const sinks::ParsedItem* c = item("client_report");
  if (!c) return nullptr;
  return nlohmann::json::parse(c->payload, nullptr, false);
}

std::string ReceiverOptions::default_dump_dir() {
  if (const char* env = std::getenv("CRASHWRAP_CAPTURE_DIR")) return env;
  return std::string(CRASHWRAP_TEST_BIN_DIR) + "/captured-envelopes";
}

// ------------------------------------------------------------------ server

Receiver::Receiver(ReceiverOptions options) : options_(std::move(options)) {
  instance_ = ++g_instances;
  if (!options_.dump_dir.empty()) {
    // mkdir -p: each component may already exist.
    for (std::size_t pos = 1; pos != std::string::npos;) {
      pos = options_.dump_dir.find('/', pos + 1);
      ::mkdir(options_.dump_dir.substr(0, pos).c_str(), 0755);
    }
  }
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error(std::string("receiver: socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(options_.port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0) {
    int err = errno;
    ::close(listen_fd_);
    throw std::runtime_error(std::string("receiver: bind/listen: ") + std::strerror(err));
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  if (::pipe2(wake_pipe_, O_CLOEXEC) != 0) throw std::runtime_error("receiver: pipe2 failed");
  acceptor_ = std::thread([this] { accept_loop(); });
}

Receiver::~Receiver() {
  stop();
  if (wake_pipe_[0] >= 0) ::close(wake_pipe_[0]);
  if (wake_pipe_[1] >= 0) ::close(wake_pipe_[1]);
}

std::string Receiver::dsn() const {
  return "http://" + options_.public_key + "@127.0.0.1:" + std::to_string(port_) + options_.path_prefix +
         "/" + options_.project_id;
}

void Receiver::stop() {
  if (stopping_.exchange(true)) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    changed_.notify_all();
  }
  char c = 'x';
  [[maybe_unused]] ssize_t n = ::write(wake_pipe_[1], &c, 1);
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
}

void Receiver::accept_loop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    int rc = ::poll(fds, 2, -1);
    if (stopping_.load()) return;
    if (rc < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (!(fds[0].revents & POLLIN)) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard<std::mutex> lock(mu_);
    ++connections_;
    workers_.emplace_back([this, fd] { serve(fd); });
  }
}

void Receiver::serve(int fd) {
  std::string buf;
  while (std::optional<http::Request> req = http::read_request(fd, buf, stopping_)) {
    if (!handle(fd, *req) || !req->keep_alive) break;
  }
  ::close(fd);
}

Reply Receiver::next_reply() {
  std::lock_guard<std::mutex> lock(mu_);
  if (replies_.empty()) return default_reply_;
  Reply r = std::move(replies_.front());
  replies_.pop_front();
  return r;
}

void Receiver::record(ReceivedRequest request, std::optional<ReceivedEnvelope> envelope) {
  std::lock_guard<std::mutex> lock(mu_);
  if (envelope) {
    if (!options_.dump_dir.empty()) {
      std::string name = options_.dump_dir + "/" + std::to_string(::getpid()) + "-" + std::to_string(instance_) +
                         "-" + std::to_string(++dumped_) + ".envelope";
      int out = ::open(name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (out >= 0) {
        std::string_view left = envelope->body;
        while (!left.empty()) {
          ssize_t n = ::write(out, left.data(), left.size());
          if (n < 0 && errno == EINTR) continue;
          if (n <= 0) break;
          left.remove_prefix(static_cast<std::size_t>(n));
        }
        ::close(out);
      }
    }
    envelopes_.push_back(std::move(*envelope));
  }
  requests_.push_back(std::move(request));
  changed_.notify_all();
}

// The checks a Sentry ingestion endpoint makes, in its order. Returns 0 and
// fills `envelope` when the request is valid, else the status to answer with
// (record.problem says why).
int Receiver::validate(const http::Request& req, ReceivedRequest& rec,
                       std::optional<ReceivedEnvelope>& envelope) const {
  const std::string want_target = options_.path_prefix + "/api/" + options_.project_id + "/envelope/";
  // Absolute form ("POST http://host:port/api/…"): the client went through us as its proxy.
  std::string path = req.target;
  if (auto scheme = path.find("://"); scheme != std::string::npos && path.compare(0, 4, "http") == 0) {
    auto slash = path.find('/', scheme + 3);
    path = slash == std::string::npos ? "/" : path.substr(slash);
    rec.absolute_form = true;
  }
  auto refuse = [&](int status, std::string problem) {
    rec.problem = std::move(problem);
    return status;
  };
  if (req.method != "POST") return refuse(405, "method " + req.method + " is not POST");
  if (path != want_target) return refuse(404, "target " + req.target + " is not " + want_target);
  int status = 0;
  if (std::string p = auth_problem(find_header(req.headers, "X-Sentry-Auth"), options_.public_key, status); !p.empty())
    return refuse(status, std::move(p));
  std::string_view type = find_header(req.headers, "Content-Type");
  if (type != "application/x-sentry-envelope") return refuse(415, "Content-Type is '" + std::string(type) + "'");
  std::string_view encoding = find_header(req.headers, "Content-Encoding");
  sinks::Codec codec = encoding == "gzip"   ? sinks::Codec::Gzip
                       : encoding == "zstd" ? sinks::Codec::Zstd
                                            : sinks::Codec::None;
  if (codec == sinks::Codec::None && !encoding.empty() && encoding != "identity")
    return refuse(415, "Content-Encoding '" + std::string(encoding) + "' is not supported");
  sinks::Decoded decoded = sinks::decompress(req.body, codec, kMaxBodyBytes);
  if (decoded.status != sinks::DecodeStatus::Ok)
    return refuse(400, "body does not decode as " + std::string(encoding.empty() ? "identity" : encoding));
  rec.body = std::move(decoded.data);
  std::string error;
  auto parsed = sinks::parse_envelope(rec.body, error);
  if (!parsed) return refuse(400, "invalid envelope: " + error);
  envelope = ReceivedEnvelope{rec.body, req.headers, std::move(*parsed)};
  return 0;
}

bool Receiver::handle(int fd, const http::Request& req) {
  ReceivedRequest rec;
  rec.method = req.method;
  rec.target = req.target;
  rec.headers = req.headers;
  rec.wire_bytes = req.body.size();
  std::optional<ReceivedEnvelope> envelope;
  if (int status = validate(req, rec, envelope); status != 0) {
    std::string body = "{\"detail\":" + json_string(rec.problem) + "}";
    rec.answered = status;
    record(std::move(rec), std::nullopt);
    return write_all(fd, "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) +
                             "\r\nContent-Type: application/json\r\nContent-Length: " +
                             std::to_string(body.size()) + "\r\n\r\n" + body);
  }

  Reply reply = next_reply();
  rec.reply_kind = reply.kind;
  for (auto deadline = Clock::now() + reply.delay; Clock::now() < deadline && !stopping_.load();)
    std::this_thread::sleep_for(std::min<Clock::duration>(10ms, deadline - Clock::now()));
  bool accepted = reply.status >= 200 && reply.status < 300;
  switch (reply.kind) {
    case Reply::Kind::Reset: {
      record(std::move(rec), std::nullopt);
      linger l{1, 0};  // close() then sends RST
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      return false;
    }
    case Reply::Kind::Hang:
      record(std::move(rec), std::nullopt);
      return wait_hung(fd);
    case Reply::Kind::WrongLength:
    case Reply::Kind::Normal: break;
  }
  std::string body = "{\"id\":" + json_string(envelope->event_id()) + "}";
  std::string head = "HTTP/1.1 " + std::to_string(reply.status) + " " + reason_phrase(reply.status) +
                     "\r\nContent-Type: application/json\r\n";
  for (const auto& [k, v] : reply.headers) head += k + ": " + v + "\r\n";
  bool wrong = reply.kind == Reply::Kind::WrongLength;
  head += "Content-Length: " + std::to_string(body.size() + (wrong ? 100 : 0)) + "\r\n\r\n";
  rec.answered = wrong ? 0 : reply.status;
  record(std::move(rec), accepted ? std::move(envelope) : std::nullopt);
  bool written = write_all(fd, head + body);
  return written && !wrong;
}

// Holds the connection without answering until release_hung(), stop(), or
// the client closes it (e.g. it was killed). Always ends the connection.
bool Receiver::wait_hung(int fd) {
  std::uint64_t gen;
  {
    std::lock_guard<std::mutex> lock(mu_);
    gen = hang_generation_;
  }
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_.load() || hang_generation_ != gen) return false;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) > 0) {
      char c;
      if (::recv(fd, &c, 1, MSG_PEEK) <= 0) return false;
    }
  }
}

void Receiver::set_default_reply(Reply reply) {
  std::lock_guard<std::mutex> lock(mu_);
  default_reply_ = std::move(reply);
}

void Receiver::push_reply(Reply reply) {
  std::lock_guard<std::mutex> lock(mu_);
  replies_.push_back(std::move(reply));
}

void Receiver::release_hung() {
  std::lock_guard<std::mutex> lock(mu_);
  ++hang_generation_;
}

std::vector<ReceivedEnvelope> Receiver::envelopes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return envelopes_;
}

std::vector<ReceivedRequest> Receiver::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

std::size_t Receiver::envelope_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return envelopes_.size();
}

std::size_t Receiver::request_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_.size();
}

std::size_t Receiver::connections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connections_;
}

std::vector<std::string> Receiver::problems() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& r : requests_)
    if (!r.problem.empty()) out.push_back(r.problem);
  return out;
}

bool Receiver::wait_for(const std::function<bool(const Receiver&)>& condition,
                        std::chrono::milliseconds bound) const {
  auto deadline = Clock::now() + bound;
  for (;;) {
    if (condition(*this)) return true;
    if (Clock::now() >= deadline) return false;
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait_for(lock, std::min<Clock::duration>(10ms, deadline - Clock::now()));
  }
}

bool Receiver::wait_for_envelopes(std::size_t n, std::chrono::milliseconds bound) const {
  return wait_for([n](const Receiver& r) { return r.envelope_count() >= n; }, bound);
}

bool Receiver::wait_for_requests(std::size_t n, std::chrono::milliseconds bound) const {
  return wait_for([n](const Receiver& r) { return r.request_count() >= n; }, bound);
}

}  // namespace crashwrap::test
