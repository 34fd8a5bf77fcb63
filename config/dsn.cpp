#include "config/dsn.h"

#include <algorithm>
#include <cctype>

namespace crashwrap::config {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(),
                                   [](char c) { return c >= '0' && c <= '9'; });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// host[:port] or [v6][:port]; returns false with `error` set.
bool parse_host_port(std::string_view hp, Dsn& dsn, std::string& error) {
  std::string_view port_text;
  if (!hp.empty() && hp.front() == '[') {
    auto close = hp.find(']');
    if (close == std::string_view::npos) {
      error = "the IPv6 host '" + std::string(hp) + "' has no closing ']'";
      return false;
    }
    dsn.host = std::string(hp.substr(1, close - 1));
    std::string_view rest = hp.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        error = "unexpected text '" + std::string(rest) + "' after the host";
        return false;
      }
      port_text = rest.substr(1);
      if (port_text.empty()) port_text = " ";
    }
  } else {
    auto colon = hp.rfind(':');
    if (colon != std::string_view::npos) {
      port_text = hp.substr(colon + 1);
      if (port_text.empty()) port_text = " ";
      hp = hp.substr(0, colon);
    }
    dsn.host = std::string(hp);
  }
  if (dsn.host.empty()) {
    error = "it has no host (the part after '@')";
    return false;
  }
  if (!port_text.empty()) {
    int port = 0;
    bool ok = all_digits(port_text) && port_text.size() <= 5;
    if (ok) port = std::stoi(std::string(port_text));
    if (!ok || port < 1 || port > 65535) {
      error = "the port '" + std::string(trim(port_text)) + "' is not a number from 1 to 65535";
      return false;
    }
    dsn.port = port;
  }
  return true;
}

// "/prefix/42" → path "/prefix", project "42".
bool parse_path(std::string_view path, Dsn& dsn, std::string& error) {
  auto cut = path.find_first_of("?#");
  if (cut != std::string_view::npos) path = path.substr(0, cut);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  auto slash = path.rfind('/');
  std::string_view project = slash == std::string_view::npos ? path : path.substr(slash + 1);
  if (project.empty()) {
    error = "it has no project id (the number at the end, e.g. https://KEY@HOST/42)";
    return false;
  }
  if (!all_digits(project)) {
    error = "the project id '" + std::string(project) + "' is not a number";
    return false;
  }
  dsn.project_id = std::string(project);
  dsn.path = slash == std::string_view::npos ? std::string() : std::string(path.substr(0, slash));
  return true;
}

}  // namespace

std::string Dsn::authority() const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port) out += ":" + std::to_string(*port);
  return out;
}

std::string Dsn::envelope_url() const {
  return scheme + "://" + authority() + path + "/api/" + project_id + "/envelope/";
}

std::optional<Dsn> parse_dsn(std::string_view text, std::string& error) {
  text = trim(text);
  Dsn dsn;
  dsn.raw = std::string(text);
  if (text.empty()) {
    error = "it is empty";
    return std::nullopt;
  }
  auto sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) {
    error = "it has no scheme (expected https://KEY@HOST/PROJECT_ID)";
    return std::nullopt;
  }
  dsn.scheme = lower(text.substr(0, sep));
  if (dsn.scheme != "http" && dsn.scheme != "https") {
    error = "the scheme '" + std::string(text.substr(0, sep)) + "' is not http or https";
    return std::nullopt;
  }
  std::string_view rest = text.substr(sep + 3);
  auto path_start = rest.find('/');
  std::string_view authority = rest.substr(0, path_start);
  std::string_view path = path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
  auto at = authority.rfind('@');
  if (at == std::string_view::npos) {
    error = "it has no public key (the part before '@')";
    return std::nullopt;
  }
  std::string_view userinfo = authority.substr(0, at);
  auto colon = userinfo.find(':');
  dsn.public_key = std::string(userinfo.substr(0, colon));
  if (colon != std::string_view::npos) dsn.secret = std::string(userinfo.substr(colon + 1));
  if (dsn.public_key.empty()) {
    error = "it has no public key (the part before '@')";
    return std::nullopt;
  }
  if (!parse_host_port(authority.substr(at + 1), dsn, error)) return std::nullopt;
  if (!parse_path(path, dsn, error)) return std::nullopt;
  return dsn;
}

std::string redact_dsn(std::string_view text) {
  text = trim(text);
  auto sep = text.find("://");
  auto start = sep == std::string_view::npos ? 0 : sep + 3;
  auto at = text.find('@', start);
  if (at == std::string_view::npos) return std::string(text);
  std::string_view userinfo = text.substr(start, at - start);
  auto colon = userinfo.find(':');
  if (colon == std::string_view::npos) return std::string(text);
  return std::string(text.substr(0, start + colon + 1)) + "***" + std::string(text.substr(at));
}

}  // namespace crashwrap::config
