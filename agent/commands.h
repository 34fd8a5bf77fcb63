// The subcommands that work on the spool instead of running a child:
//   crashwrap list        table of saved entries: id, saved time, state per DSN, summary, size
//   crashwrap show ID     one entry human-readable (exception, frames top-first, exit,
//                         contexts) followed by its output tail; ID may be a unique prefix
//   crashwrap send        uploads the spool now through the sender's one-shot mode
//   crashwrap doctor      checks the set-up, one line per check
// Each writes its result to stdout, problems through diag, and returns the
// process exit code. Main thread only.
#pragma once

#include <string>

#include "config/config.h"

namespace crashwrap::agent {

int run_list(const config::Config& config);    // 0; 1 when the spool cannot be read
int run_show(const config::Config& config);    // 0; 1 unknown/ambiguous id or unreadable entry
int run_send(const config::Config& config);    // 0 only when nothing is left to deliver
int run_doctor(const config::Config& config);  // 0 when every check passes, 1 otherwise

}  // namespace crashwrap::agent
