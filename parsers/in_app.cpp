#include "parsers/in_app.h"

#include "parsers/text.h"

namespace crashwrap::parsers {

bool is_library_path(std::string_view p) noexcept {
  using text::starts_with;
  static constexpr std::string_view kMarkers[] = {
      "/site-packages/", "/dist-packages/", "/node_modules/", "/lib/python", "/rustc/", "/.cargo/registry/",
      "/go/pkg/mod/",    "/usr/lib/go",     "/usr/local/go/", "/gems/",      "/vendor/", "/usr/share/php/",
      "/usr/lib/ruby/",  "/usr/lib/jvm/",   "/usr/share/dotnet/", "/usr/lib/mono/",
  };
  if (starts_with(p, "node:") || starts_with(p, "internal/") || starts_with(p, "<frozen ")) return true;
  // Every marker starts with '/': one pass over the path's slashes instead of
  // one search per marker (this runs for every frame of every report).
  for (std::size_t pos = p.find('/'); pos != std::string_view::npos; pos = p.find('/', pos + 1)) {
    std::string_view rest = p.substr(pos);
    for (std::string_view m : kMarkers)
      if (starts_with(rest, m)) return true;
  }
  return false;
}

}  // namespace crashwrap::parsers
