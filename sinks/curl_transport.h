// Executing prepared requests (sinks/transport.h).
//
// A Transport runs at most one request per slot at a time (the sender uses one
// slot per DSN), all slots concurrently, so a slow or dead DSN never holds up
// another one. The sender thread submits requests and collects completions;
// wait() is its only blocking point and wake() (any thread) interrupts it.
//
// Variants, chosen by configuration (make_transport), never by #ifdef:
//   CurlTransport  libcurl multi interface, one easy handle per slot (keeps
//                  its connection alive); HTTPS_PROXY / NO_PROXY from the
//                  environment as libcurl reads them; --ca-file; --insecure
//                  turns off verification with one loud warning.
//   DiskTransport  writes each request body to a directory and answers 200
//                  (air-gapped hosts, debugging: `config.transport_dir`).
//   NullTransport  answers every request with a fixed response (tests).
//
// Threads: construct, submit(), wait() and in_flight() on one thread (the
// sender thread); wake() from any thread. Nothing throws.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "sinks/transport.h"

namespace crashwrap::sinks {

struct Completion {
  std::size_t slot = 0;
  Response response;
};

struct TransportOptions {
  std::chrono::milliseconds timeout{15000};         // whole request
  std::chrono::milliseconds connect_timeout{3000};  // TCP + TLS handshake
  std::string ca_file;                              // "" = the system's CA store
  bool insecure = false;                            // skip TLS verification (tests only)
};

TransportOptions transport_options(const config::Config& config);

class Transport {
 public:
  virtual ~Transport() = default;
  // Starts `request` on `slot` (< slots given at creation). The slot must be
  // idle (busy() false); a busy or unknown slot completes at once with
  // TransportError::Other.
  virtual void submit(std::size_t slot, Request request) = 0;
  virtual bool busy(std::size_t slot) const = 0;
  // Completed requests. When none is ready, waits up to `timeout` for one,
  // returning early (possibly empty) on wake().
  virtual std::vector<Completion> wait(std::chrono::milliseconds timeout) = 0;
  // Interrupts a wait() in progress or the next one. Any thread; never blocks.
  virtual void wake() noexcept = 0;

  // Convenience for tests and one-off use: submit on `slot`, wait for it.
  Response execute(std::size_t slot, Request request);
};


std::unique_ptr<Transport> make_curl_transport(std::size_t slots, const TransportOptions& options);
std::unique_ptr<Transport> make_disk_transport(std::size_t slots, std::string dir);
std::unique_ptr<Transport> make_null_transport(std::size_t slots, Response answer);

// DiskTransport when config.transport_dir is set, else CurlTransport.
std::unique_ptr<Transport> make_transport(const config::Config& config, std::size_t slots);

}  // namespace crashwrap::sinks
