#include "parsers/in_app.h"

#include <array>

#include "parsers/text.h"

namespace crashwrap::parsers {

bool is_library_path(std::string_view p) noexcept {
  using text::starts_with;
  static constexpr std::string_view kMarkers[] = {
      "/site-packages/", "/dist-packages/", "/node_modules/", "/lib/python", "/rustc/", "/.cargo/registry/",
      "/go/pkg/mod/",    "/usr/lib/go",     "/usr/local/go/", "/gems/",      "/vendor/", "/usr/share/php/",
      "/usr/lib/ruby/",  "/usr/lib/jvm/",   "/usr/share/dotnet/", "/usr/lib/mono/",
  };
  // The bytes that follow the '/' of some marker.
  static constexpr auto kSecond = [] {
    std::array<bool, 256> second{};
    for (std::string_view m : kMarkers) second[static_cast<unsigned char>(m[1])] = true;
    return second;
  }();
  if (starts_with(p, "node:") || starts_with(p, "internal/") || starts_with(p, "<frozen ")) return true;
  // Every marker starts with '/': one pass over the path's slashes instead of
  // one search per marker (this runs for every frame of every report), and
  // only the markers whose second byte follows the slash are compared.
  for (std::size_t pos = 0; pos + 1 < p.size(); ++pos) {
    if (p[pos] != '/' || !kSecond[static_cast<unsigned char>(p[pos + 1])]) continue;
    std::string_view rest = p.substr(pos);
    for (std::string_view m : kMarkers)
      if (rest[1] == m[1] && starts_with(rest, m)) return true;
  }
  return false;
}

}  // namespace crashwrap::parsers
