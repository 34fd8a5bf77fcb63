// The child's environment: crashwrap's own, plus hints that make runtimes
// write their output (and their crash reports) unbuffered, so a crash is never
// lost in a buffer and lines arrive when they are written:
//   PYTHONUNBUFFERED=1   Python writes stdout/stderr unbuffered (unless set)
//   RUST_BACKTRACE=1     Rust panics print a backtrace (unless set)
//   LD_PRELOAD=<coreutils' libstdbuf.so> _STDBUF_O=L _STDBUF_E=0
//                        C stdio line-buffers stdout and unbuffers stderr, as
//                        `stdbuf -oL -e0` does (--line-buffer). Auto (default):
//                        only when libstdbuf is installed and the program is a
//                        dynamically linked ELF (has PT_INTERP); an existing
//                        LD_PRELOAD is kept after it; _STDBUF_* already set win.
//                        With the preload, ASAN_OPTIONS gets verify_asan_link_order=0
//                        (unless it names that option), or a GCC -fsanitize=address
//                        program refuses to start behind a preloaded library.
// --no-env-hints turns all hints off. CRASHWRAP_DSN is always removed (it is
// crashwrap's secret, not the app's). Main thread, before spawning.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace crashwrap::agent {

// What the hints depend on besides the configuration (found on the real system
// by child_environment; given directly by tests).
struct HintFacts {
  std::optional<std::string> libstdbuf;   // path of libstdbuf.so, when installed
  bool dynamic_elf = false;               // the resolved program has PT_INTERP
};

// `env` ("NAME=value" entries) with the hints applied.
std::vector<std::string> apply_env_hints(std::vector<std::string> env, const config::Config& config,
                                         const HintFacts& facts);

// coreutils' libstdbuf.so in /usr/libexec/coreutils, /usr/lib/coreutils or
// /usr/lib/x86_64-linux-gnu/coreutils (first found); nullopt when none.
std::optional<std::string> find_libstdbuf();
std::optional<std::string> find_libstdbuf(const std::vector<std::string>& directories);
const std::vector<std::string>& libstdbuf_directories();

// True when `path` is an ELF file whose program headers include PT_INTERP
// (a dynamically linked executable). False for scripts, static binaries and
// anything unreadable.
bool is_dynamic_elf(const std::string& path);

// The full child environment from crashwrap's `envp`, for running `program`
// (as resolved through PATH; nullopt when it was not found).
// With --line-buffer forced on and no libstdbuf found, prints one warning.
std::vector<std::string> child_environment(const config::Config& config, char** envp,
                                           const std::optional<std::string>& program);
// The same, looking for libstdbuf.so in `libstdbuf_dirs` (tests).
std::vector<std::string> child_environment(const config::Config& config, char** envp,
                                           const std::optional<std::string>& program,
                                           const std::vector<std::string>& libstdbuf_dirs);

// Value of NAME in an "NAME=value" list; nullopt when absent.
std::optional<std::string_view> env_get(const std::vector<std::string>& env, std::string_view name);

}  // namespace crashwrap::agent
