#include "agent/env_hints.h"

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "agent/diag.h"

namespace crashwrap::agent {

namespace {

bool has_name(std::string_view entry, std::string_view name) {
  return entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 &&
         entry[name.size()] == '=';
}

void unset(std::vector<std::string>& env, std::string_view name) {
  std::erase_if(env, [name](const std::string& e) { return has_name(e, name); });
}

void set(std::vector<std::string>& env, std::string_view name, std::string_view value) {
  unset(env, name);
  env.push_back(std::string(name) + "=" + std::string(value));
}

void set_default(std::vector<std::string>& env, std::string_view name, std::string_view value) {
  if (!env_get(env, name)) set(env, name, value);
}

bool read_at(int fd, void* buf, std::size_t len, off_t offset) {
  return ::pread(fd, buf, len, offset) == static_cast<ssize_t>(len);
}

}  // namespace

std::optional<std::string_view> env_get(const std::vector<std::string>& env, std::string_view name) {
  for (const auto& e : env) {
    if (has_name(e, name)) return std::string_view(e).substr(name.size() + 1);
  }
  return std::nullopt;
}

std::vector<std::string> apply_env_hints(std::vector<std::string> env, const config::Config& config,
                                         const HintFacts& facts) {
  unset(env, "CRASHWRAP_DSN");
  if (!config.env_hints) return env;
  set_default(env, "PYTHONUNBUFFERED", "1");
  set_default(env, "RUST_BACKTRACE", "1");
  const bool line_buffer =
      facts.libstdbuf && (config.line_buffer == config::LineBuffer::On ||
                          (config.line_buffer == config::LineBuffer::Auto && facts.dynamic_elf));
  if (line_buffer) {
    std::string preload = *facts.libstdbuf;
    if (auto old = env_get(env, "LD_PRELOAD"); old && !old->empty()) {
      preload += ':';
      preload += *old;
    }
    set(env, "LD_PRELOAD", preload);
    set_default(env, "_STDBUF_O", "L");
    set_default(env, "_STDBUF_E", "0");
    // A program built with GCC's -fsanitize=address refuses to start when a
    // preloaded library comes before libasan ("ASan runtime does not come
    // first in initial library list"); the check is only about that order.
    std::string asan(env_get(env, "ASAN_OPTIONS").value_or(""));
    if (asan.find("verify_asan_link_order") == std::string::npos)
      set(env, "ASAN_OPTIONS", asan.empty() ? "verify_asan_link_order=0" : asan + ":verify_asan_link_order=0");
  }
  return env;
}

std::optional<std::string> find_libstdbuf(const std::vector<std::string>& directories) {
  for (const auto& dir : directories) {
    std::string path = dir + "/libstdbuf.so";
    if (::access(path.c_str(), R_OK) == 0) return path;
  }
  return std::nullopt;
}

const std::vector<std::string>& libstdbuf_directories() {
  static const std::vector<std::string> dirs{"/usr/libexec/coreutils", "/usr/lib/coreutils",
                                             "/usr/lib/x86_64-linux-gnu/coreutils"};
  return dirs;
}

std::optional<std::string> find_libstdbuf() { return find_libstdbuf(libstdbuf_directories()); }

bool is_dynamic_elf(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool dynamic = false;
  unsigned char ident[EI_NIDENT];
  if (read_at(fd, ident, sizeof ident, 0) && std::memcmp(ident, ELFMAG, SELFMAG) == 0) {
    // Program headers: 64-bit or 32-bit layout, native byte order assumed (a
    // foreign-endian binary would not run here anyway).
    if (ident[EI_CLASS] == ELFCLASS64) {
      Elf64_Ehdr eh;
      if (read_at(fd, &eh, sizeof eh, 0)) {
        for (unsigned i = 0; i < eh.e_phnum && i < 512 && !dynamic; ++i) {
          Elf64_Phdr ph;
          if (!read_at(fd, &ph, sizeof ph, static_cast<off_t>(eh.e_phoff + i * eh.e_phentsize))) break;
          dynamic = ph.p_type == PT_INTERP;
        }
      }
    } else if (ident[EI_CLASS] == ELFCLASS32) {
      Elf32_Ehdr eh;
      if (read_at(fd, &eh, sizeof eh, 0)) {
        for (unsigned i = 0; i < eh.e_phnum && i < 512 && !dynamic; ++i) {
          Elf32_Phdr ph;
          if (!read_at(fd, &ph, sizeof ph, static_cast<off_t>(eh.e_phoff + i * eh.e_phentsize))) break;
          dynamic = ph.p_type == PT_INTERP;
        }
      }
    }
  }
  ::close(fd);
  return dynamic;
}

std::vector<std::string> child_environment(const config::Config& config, char** envp,
                                           const std::optional<std::string>& program) {
  return child_environment(config, envp, program, libstdbuf_directories());
}

std::vector<std::string> child_environment(const config::Config& config, char** envp,
                                           const std::optional<std::string>& program,
                                           const std::vector<std::string>& libstdbuf_dirs) {
  std::vector<std::string> env;
  for (char** e = envp; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  HintFacts facts;
  if (config.env_hints && config.line_buffer != config::LineBuffer::Off) {
    facts.libstdbuf = find_libstdbuf(libstdbuf_dirs);
    if (facts.libstdbuf && program) facts.dynamic_elf = is_dynamic_elf(*program);
    if (!facts.libstdbuf && config.line_buffer == config::LineBuffer::On) {
      diag::line_buffer_unavailable();
    }
  }
  return apply_env_hints(std::move(env), config, facts);
}

}  // namespace crashwrap::agent
