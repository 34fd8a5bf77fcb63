// crashwrap: run a command, pass its output through, report how it crashed.
//   parse → load configuration → run the pipeline or a subcommand → exit like the child.
#include <unistd.h>

#include <string>

#include "agent/commands.h"
#include "agent/diag.h"
#include "agent/pipeline.h"
#include "agent/supervisor.h"
#include "config/load.h"

namespace {

using namespace crashwrap;

int print(const std::string& text) {
  std::size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(STDOUT_FILENO, text.data() + off, text.size() - off);
    if (n <= 0) return 1;
    off += static_cast<std::size_t>(n);
  }
  return 0;
}

// Subcommands work on the spool instead of running a child.
int run_subcommand(const config::Config& config) {
  switch (config.command) {
    case config::Command::Help: return print(config::help_text());
    case config::Command::Version: return print(config::version_text());
    case config::Command::List: return agent::run_list(config);
    case config::Command::Show: return agent::run_show(config);
    case config::Command::Send: return agent::run_send(config);
    case config::Command::Doctor: return agent::run_doctor(config);
    case config::Command::Run: break;
  }
  return 2;
}

}  // namespace

int main(int argc, char** argv, char** envp) {
  config::LoadResult loaded = config::load(argc, argv, envp);
  const config::Config& config = loaded.config;
  agent::diag::set_quiet(config.quiet);
  for (const std::string& warning : loaded.warnings) agent::diag::config_warning(warning);
  if (loaded.refuse) {
    agent::diag::config_refused(loaded.error);
    return 2;
  }
  if (config.command != config::Command::Run) return run_subcommand(config);

  const agent::RunOutcome outcome = agent::run_pipeline(config, envp);
  if (!outcome.spawned) return outcome.exit_code;
  agent::exit_like(outcome.wait_status, config.remap_exit, outcome.pid1);
}
