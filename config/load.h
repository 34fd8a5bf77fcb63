// Loading the configuration: command line > environment > JSON file.
//
//   crashwrap [options] -- cmd args…         run cmd (also: the first non-option word
//                                            that is not a subcommand starts the command)
//   crashwrap [options] send|list|doctor|help|version
//   crashwrap [options] show ID
//
// Environment: CRASHWRAP_<OPTION> for every option (see config/options.h), plus
// SENTRY_DSN (comma list; left in the child's environment for the app's own SDK),
// CRASHWRAP_DSN (preferred over SENTRY_DSN; Config::dsn_from_crashwrap_env is set
// so the child never sees it), SENTRY_RELEASE, SENTRY_ENVIRONMENT, CRASHWRAP_CONFIG.
// JSON file: --config FILE or CRASHWRAP_CONFIG, one object keyed by the options'
// JSON keys (see `crashwrap --help`).
//
// A bad value never stops the app: it becomes one warning line naming the option,
// the value and the fix, and the default is used. `--strict` turns warnings into a
// refusal. Call once at start-up, on the main thread (reads the environment and the
// file system; may throw only std::bad_alloc).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config/config.h"

namespace crashwrap::config {

struct LoadResult {
  Config config;
  // Each one full line text without the "crashwrap: warning: " prefix, e.g.
  // "--kill-after 'abc' is not a duration — fix: use e.g. 10s; using no kill-after"
  std::vector<std::string> warnings;
  // --strict with warnings, or a fatal usage error (no command to run); `error` is
  // then one line without the "crashwrap: error: " prefix.
  bool refuse = false;
  std::string error;
};

LoadResult load(int argc, char** argv, char** envp);

// The same, from plain values (tests; `args` excludes the program name).
LoadResult load(const std::vector<std::string>& args,
                const std::map<std::string, std::string>& env);

// Full `crashwrap --help` text (usage, subcommands, every option with its
// environment variable, JSON key and default), generated from the options table.
std::string help_text();
// "crashwrap 0.1.0\n"
std::string version_text();

// Spool directory when none is configured: $XDG_STATE_HOME/crashwrap, else
// /var/lib/crashwrap when writable or creatable, else /tmp/crashwrap-$UID.
std::string default_spool_dir(const std::map<std::string, std::string>& env);

}  // namespace crashwrap::config
