#include "support/http_wire.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace crashwrap::test::http {
namespace {

constexpr std::size_t kMaxHeaderBytes = 64 * 1024;

// Reads more bytes into `buf`; false on EOF, error or stop. Polls in short
// steps so a stop() is noticed promptly.
bool read_more(int fd, std::string& buf, const std::atomic<bool>& stopping) {
  char chunk[64 * 1024];
  for (;;) {
    if (stopping.load()) return false;
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, 50);
    if (rc < 0 && errno != EINTR) return false;
    if (rc <= 0) continue;
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
}

// Ensures buf holds at least `n` bytes from `pos`.
bool need(int fd, std::string& buf, std::size_t pos, std::size_t n, const std::atomic<bool>& stopping) {
  while (buf.size() < pos + n)
    if (!read_more(fd, buf, stopping)) return false;
  return true;
}

// Decodes a chunked body starting at buf[pos]; returns the position after it.
std::optional<std::size_t> read_chunked(int fd, std::string& buf, std::size_t pos, std::string& body,
                                        const std::atomic<bool>& stopping) {
  for (;;) {
    std::size_t eol;
    while ((eol = buf.find("\r\n", pos)) == std::string::npos)
      if (buf.size() - pos > 1024 || !read_more(fd, buf, stopping)) return std::nullopt;
    std::string size_text = buf.substr(pos, eol - pos);
    std::size_t size = std::strtoul(size_text.c_str(), nullptr, 16);
    pos = eol + 2;
    if (size == 0) {
      // Trailers (none expected) end with an empty line.
      while ((eol = buf.find("\r\n", pos)) == std::string::npos)
        if (!read_more(fd, buf, stopping)) return std::nullopt;
      while (eol != pos) {
        pos = eol + 2;
        while ((eol = buf.find("\r\n", pos)) == std::string::npos)
          if (!read_more(fd, buf, stopping)) return std::nullopt;
      }
      return eol + 2;
    }
    if (body.size() + size > kMaxBodyBytes || !need(fd, buf, pos, size + 2, stopping)) return std::nullopt;
    body.append(buf, pos, size);
    pos += size + 2;
  }
}

// Request line and header fields of the head buf[0, end).
std::optional<Request> parse_head(std::string_view head) {
  Request req;
  std::size_t line_end = head.find("\r\n");
  std::string_view request_line = head.substr(0, line_end);
  auto s1 = request_line.find(' '), s2 = request_line.rfind(' ');
  if (s1 == std::string_view::npos || s2 == s1) return std::nullopt;
  req.method = request_line.substr(0, s1);
  req.target = request_line.substr(s1 + 1, s2 - s1 - 1);
  req.version = request_line.substr(s2 + 1);
  while (line_end != std::string_view::npos) {
    std::size_t next = head.find("\r\n", line_end + 2);
    std::string_view line = head.substr(line_end + 2, next == std::string_view::npos ? next : next - line_end - 2);
    line_end = next;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    req.headers.emplace_back(std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
  }
  return req;
}

}  // namespace

namespace {
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string_view find_header(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

std::optional<Request> read_request(int fd, std::string& buf, const std::atomic<bool>& stopping) {
  std::size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos)
    if (buf.size() > kMaxHeaderBytes || !read_more(fd, buf, stopping)) return std::nullopt;
  std::optional<Request> req = parse_head(std::string_view(buf.data(), end));
  if (!req) return std::nullopt;
  std::size_t pos = end + 4;
  std::string_view te = find_header(req->headers, "Transfer-Encoding");
  if (!te.empty() && te.find("chunked") != std::string_view::npos) {
    auto after = read_chunked(fd, buf, pos, req->body, stopping);
    if (!after) return std::nullopt;
    pos = *after;
  } else {
    std::size_t length = std::strtoull(std::string(find_header(req->headers, "Content-Length")).c_str(), nullptr, 10);
    if (length > kMaxBodyBytes || !need(fd, buf, pos, length, stopping)) return std::nullopt;
    req->body = buf.substr(pos, length);
    pos += length;
  }
  buf.erase(0, pos);
  std::string_view conn = find_header(req->headers, "Connection");
  req->keep_alive = req->version == "HTTP/1.1" ? !iequals(conn, "close") : iequals(conn, "keep-alive");
  return req;
}

}  // namespace crashwrap::test::http
