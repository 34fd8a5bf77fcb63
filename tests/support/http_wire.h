// The HTTP/1.1 wire layer of the test receiver: reading one request (request
// line, header fields, a Content-Length or chunked body) from a socket, and
// small helpers for answering. Blocking reads in short poll steps so a stop
// flag is noticed promptly. Thread-safe: no shared state.
#pragma once

#include <atomic>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crashwrap::test {

using Headers = std::vector<std::pair<std::string, std::string>>;

namespace http {

inline constexpr std::size_t kMaxBodyBytes = 256u * 1024 * 1024;

struct Request {
  std::string method, target, version;
  Headers headers;
  std::string body;        // de-chunked
  bool keep_alive = true;  // HTTP/1.1 unless "Connection: close"
};

// The next request on `fd`; `buf` carries bytes already read past it.
// nullopt on EOF, a read error, a malformed or oversized request, or `stopping`.
std::optional<Request> read_request(int fd, std::string& buf, const std::atomic<bool>& stopping);

bool write_all(int fd, std::string_view data);  // send(2) with MSG_NOSIGNAL; false on failure
const char* reason_phrase(int status);
bool iequals(std::string_view a, std::string_view b);  // ASCII case-insensitive
std::string_view trim(std::string_view s);
std::string_view find_header(const Headers& headers, std::string_view name);  // "" when absent

}  // namespace http
}  // namespace crashwrap::test
