#include "config/load.h"

// Interim implementation: the full loader (options table, environment, JSON file)
// replaces this file.
namespace crashwrap::config {

LoadResult load(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  LoadResult r;
  std::size_t i = 0;
  for (; i < args.size(); ++i)
    if (args[i] == "--") { ++i; break; }
  if (i > args.size()) i = args.size();
  r.config.argv.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  r.config.spool_dir = default_spool_dir(env);
  return r;
}

LoadResult load(int argc, char** argv, char** envp) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::map<std::string, std::string> env;
  for (char** e = envp; e && *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return load(args, env);
}

std::string help_text() { return "usage: crashwrap [options] -- cmd args…\n"; }
std::string version_text() { return "crashwrap " CRASHWRAP_VERSION "\n"; }

std::string default_spool_dir(const std::map<std::string, std::string>& env) {
  auto it = env.find("CRASHWRAP_SPOOL");
  if (it != env.end() && !it->second.empty()) return it->second;
  return "/tmp/crashwrap";
}

}  // namespace crashwrap::config
