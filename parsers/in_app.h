// Default in-app classification shared by the runtime detectors: code that
// belongs to a runtime, a standard library or a third-party package is not
// the application's own. Pure.
#pragma once

#include <string_view>

namespace crashwrap::parsers {

// True when the path points into installed packages or a runtime
// (site-packages, dist-packages, node_modules, node:internal, GOROOT, /rustc/,
// /usr/lib/…, gems, vendor/, …).
bool is_library_path(std::string_view path) noexcept;

}  // namespace crashwrap::parsers
