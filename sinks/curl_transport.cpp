#include "sinks/curl_transport.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "agent/diag.h"
#include "sinks/curl_library.h"

namespace crashwrap::sinks {
namespace {

using std::chrono::milliseconds;

Response transport_failure(TransportError e, std::string detail) {
  Response r;
  r.error = e;
  r.detail = std::move(detail);
  return r;
}

// ---------------------------------------------------------------- libcurl

struct CurlSlot {
  CURL* easy = nullptr;
  bool busy = false;
  Request request;
  curl_slist* headers = nullptr;
  Response response;
  char error[CURL_ERROR_SIZE] = {};
};

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i], b = prefix[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

std::string header_value(std::string_view line, std::size_t name_len) {
  std::string_view v = line.substr(name_len);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
  return std::string(v);
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* slot = static_cast<CurlSlot*>(user);
  std::string_view line(data, size * n);
  // A new status line starts a new response (after "100 Continue" or a
  // proxy's CONNECT answer): only the final response's headers count.
  if (starts_with_ci(line, "HTTP/")) {
    slot->response.retry_after.clear();
    slot->response.rate_limits.clear();
  } else if (starts_with_ci(line, "retry-after:")) {
    slot->response.retry_after = header_value(line, 12);
  } else if (starts_with_ci(line, "x-sentry-rate-limits:")) {
    slot->response.rate_limits = header_value(line, 21);
  }
  return size * n;
}

size_t on_body(char*, size_t size, size_t n, void*) { return size * n; }  // read and ignored

TransportError classify_curl(CURLcode rc) {
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: return TransportError::Timeout;
    case CURLE_COULDNT_CONNECT: return TransportError::Connect;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return TransportError::Resolve;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH: return TransportError::Tls;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE: return TransportError::Network;
    default: return TransportError::Other;
  }
}

class CurlTransport final : public Transport {
 public:
  CurlTransport(std::size_t slots, TransportOptions options)
      : options_(std::move(options)), slots_(slots) {
    if (options_.insecure) agent::diag::insecure_tls();
  }

  ~CurlTransport() override {
    CURLM* multi = multi_.load();
    if (!curl_) return;
    for (auto& s : slots_) {
      if (s.busy && multi) curl_->multi_remove_handle(multi, s.easy);
      if (s.easy) curl_->easy_cleanup(s.easy);
      curl_->slist_free_all(s.headers);
    }
    if (multi) curl_->multi_cleanup(multi);
  }

  void submit(std::size_t slot, Request request) override {
    if (!load()) {
      ready_.push_back({slot, transport_failure(TransportError::Other, load_error_)});
      return;
    }
    if (slot >= slots_.size() || slots_[slot].busy || !slots_[slot].easy) {
      ready_.push_back({slot, transport_failure(TransportError::Other, "transport slot unavailable")});
      return;
    }
    CurlSlot& s = slots_[slot];
    s.request = std::move(request);
    s.response = Response{};
    s.error[0] = '\0';
    configure(s);
    if (curl_->multi_add_handle(multi_.load(), s.easy) != CURLM_OK) {
      ready_.push_back({slot, transport_failure(TransportError::Other, "curl_multi_add_handle failed")});
      return;
    }
    s.busy = true;
  }

  bool busy(std::size_t slot) const override { return slot < slots_.size() && slots_[slot].busy; }

  std::vector<Completion> wait(milliseconds timeout) override {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      collect();
      if (!ready_.empty() || woken_.exchange(false)) return std::exchange(ready_, {});
      auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left <= milliseconds(0)) return {};
      const int poll_ms = static_cast<int>(std::min<long long>(left.count(), 60'000));
      if (CURLM* multi = multi_.load()) {
        int numfds = 0;
        curl_->multi_poll(multi, nullptr, 0, poll_ms, &numfds);
      } else {
        // Nothing was ever submitted (or libcurl is missing): sleep in short steps.
        std::this_thread::sleep_for(milliseconds(std::min(poll_ms, 50)));
      }
    }
  }

  void wake() noexcept override {
    woken_.store(true);
    if (CURLM* multi = multi_.load()) curl_->multi_wakeup(multi);
  }

 private:
  void configure(CurlSlot& s) {
    CURL* e = s.easy;
    // A reset keeps the handle's connection and TLS session caches (keep-alive).
    curl_->easy_reset(e);
    curl_->slist_free_all(s.headers);
    s.headers = nullptr;
    for (const auto& [k, v] : s.request.headers) s.headers = curl_->slist_append(s.headers, (k + ": " + v).c_str());
    // curl would wait up to a second for "100 Continue" before large bodies.
    s.headers = curl_->slist_append(s.headers, "Expect:");
    curl_->easy_setopt(e, CURLOPT_URL, s.request.url.c_str());
    curl_->easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (s.request.method != "POST") curl_->easy_setopt(e, CURLOPT_CUSTOMREQUEST, s.request.method.c_str());
    curl_->easy_setopt(e, CURLOPT_POST, 1L);
    curl_->easy_setopt(e, CURLOPT_POSTFIELDS, s.request.body.data());
    curl_->easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(s.request.body.size()));
    curl_->easy_setopt(e, CURLOPT_HTTPHEADER, s.headers);
    curl_->easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_->easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    curl_->easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min(options_.connect_timeout, options_.timeout).count()));
    curl_->easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_->easy_setopt(e, CURLOPT_HEADERDATA, &s);
    curl_->easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_->easy_setopt(e, CURLOPT_ERRORBUFFER, s.error);
    curl_->easy_setopt(e, CURLOPT_PRIVATE, &s);
    if (!options_.ca_file.empty()) curl_->easy_setopt(e, CURLOPT_CAINFO, options_.ca_file.c_str());
    if (options_.insecure) {
      curl_->easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_->easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
  }

  void collect() {
    CURLM* multi = multi_.load();
    if (!multi) return;
    int running = 0;
    curl_->multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* m = curl_->multi_info_read(multi, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      CurlSlot* s = nullptr;
      curl_->easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&s));
      CURLcode rc = m->data.result;
      curl_->multi_remove_handle(multi, m->easy_handle);
      if (!s) continue;
      finish(*s, rc);
    }
  }

  void finish(CurlSlot& s, CURLcode rc) {
    s.busy = false;
    long status = 0;
    curl_->easy_getinfo(s.easy, CURLINFO_RESPONSE_CODE, &status);
    Response r = std::move(s.response);
    // A complete status line and headers mean the server decided; a body cut
    // short afterwards (wrong Content-Length, reset) doesn't change that.
    bool decided = status >= 200 && (rc == CURLE_OK || rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR);
    if (decided) {
      r.status = status;
    } else {
      r.error = classify_curl(rc);
      r.detail = s.error[0] ? std::string(s.error) : std::string(curl_->easy_strerror(rc));
    }
    s.request = Request{};  // free the body now, not at the next submit
    std::size_t index = static_cast<std::size_t>(&s - slots_.data());
    ready_.push_back({index, std::move(r)});
  }

  // Loads libcurl and creates the handles on first use (the sender thread).
  // multi_ is atomic only because wake() may read it from another thread.
  bool load() {
    if (multi_.load()) return true;
    if (!load_error_.empty()) return false;
    curl_ = curl_library(&load_error_);
    if (!curl_) {
      agent::diag::transport_unavailable(load_error_);
      return false;
    }
    for (auto& s : slots_) s.easy = curl_->easy_init();
    multi_.store(curl_->multi_init());
    if (!multi_.load()) load_error_ = "curl_multi_init failed";
    return multi_.load() != nullptr;
  }

  TransportOptions options_;
  const CurlLibrary* curl_ = nullptr;
  std::string load_error_;
  std::atomic<CURLM*> multi_{nullptr};
  std::vector<CurlSlot> slots_;
  std::vector<Completion> ready_;
  std::atomic<bool> woken_{false};
};

// ------------------------------------------------ immediate (disk / null)

// Completes every request at submit(); wait() only blocks when nothing is ready.
class ImmediateTransport : public Transport {
 public:
  explicit ImmediateTransport(std::size_t slots) : slots_(slots) {}

  void submit(std::size_t slot, Request request) override {
    Response r = slot < slots_ ? answer(request)
                               : transport_failure(TransportError::Other, "transport slot unavailable");
    std::lock_guard<std::mutex> lock(mu_);
    ready_.push_back({slot, std::move(r)});
  }

  bool busy(std::size_t) const override { return false; }

  std::vector<Completion> wait(milliseconds timeout) override {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return !ready_.empty() || woken_; });
    woken_ = false;
    return std::exchange(ready_, {});
  }

  void wake() noexcept override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      woken_ = true;
    }
    cv_.notify_all();
  }

 protected:
  virtual Response answer(const Request& request) = 0;

 private:
  std::size_t slots_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Completion> ready_;
  bool woken_ = false;
};

class DiskTransport final : public ImmediateTransport {
 public:
  DiskTransport(std::size_t slots, std::string dir) : ImmediateTransport(slots), dir_(std::move(dir)) {}

 protected:
  Response answer(const Request& request) override {
    std::string_view enc = request.header("Content-Encoding");
    std::string name = std::to_string(::getpid()) + "-" + std::to_string(++seq_) + ".envelope" +
                       (enc == "gzip" ? ".gz" : enc == "zstd" ? ".zst" : "");
    std::string tmp = dir_ + "/." + name + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return transport_failure(TransportError::Other, dir_ + ": " + std::strerror(errno));
    const char* p = request.body.data();
    std::size_t left = request.body.size();
    while (left > 0) {
      ssize_t n = ::write(fd, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    bool ok = left == 0 && ::fsync(fd) == 0;
    int err = errno;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), (dir_ + "/" + name).c_str()) != 0) {
      if (ok) err = errno;
      ::unlink(tmp.c_str());
      return transport_failure(TransportError::Other, dir_ + ": " + std::strerror(err));
    }
    Response r;
    r.status = 200;
    return r;
  }

 private:
  std::string dir_;
  std::uint64_t seq_ = 0;
};

class NullTransport final : public ImmediateTransport {
 public:
  NullTransport(std::size_t slots, Response answer) : ImmediateTransport(slots), answer_(std::move(answer)) {}

 protected:
  Response answer(const Request&) override { return answer_; }

 private:
  Response answer_;
};

}  // namespace

Response Transport::execute(std::size_t slot, Request request) {
  submit(slot, std::move(request));
  // Bounded by the request's own timeouts; the outer bound only guards a
  // transport that never completes.
  for (int i = 0; i < 600; ++i) {
    for (Completion& c : wait(milliseconds(1000)))
      if (c.slot == slot) return std::move(c.response);
  }
  return transport_failure(TransportError::Timeout, "no completion");
}

TransportOptions transport_options(const config::Config& c) {
  TransportOptions o;
  o.timeout = c.http_timeout;
  o.connect_timeout = c.connect_timeout;
  o.ca_file = c.ca_file;
  o.insecure = c.insecure;
  return o;
}

std::unique_ptr<Transport> make_curl_transport(std::size_t slots, const TransportOptions& options) {
  return std::make_unique<CurlTransport>(slots, options);
}

std::unique_ptr<Transport> make_disk_transport(std::size_t slots, std::string dir) {
  return std::make_unique<DiskTransport>(slots, std::move(dir));
}

std::unique_ptr<Transport> make_null_transport(std::size_t slots, Response answer) {
  return std::make_unique<NullTransport>(slots, std::move(answer));
}

std::unique_ptr<Transport> make_transport(const config::Config& config, std::size_t slots) {
  if (!config.transport_dir.empty()) return make_disk_transport(slots, config.transport_dir);
  return make_curl_transport(slots, transport_options(config));
}

}  // namespace crashwrap::sinks
