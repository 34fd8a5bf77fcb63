// Linux signal names and numbers, both ways. Pure, thread-safe, no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace crashwrap::parsers {

// "SIGSEGV" for 11; real-time signals as "SIGRTMIN+n" / "SIGRTMAX-n" (glibc's
// SIGRTMIN, i.e. 34 on Linux); anything else "SIG<n>" (e.g. "SIG99").
std::string signal_name(int signo);

// Accepts "SIGTERM", "TERM", "term", "SigTerm", "15", "SIGRTMIN+2", "RTMAX-1",
// and the aliases SIGIOT, SIGPOLL, SIGCLD. nullopt for an unknown name or a
// number outside 1..SIGRTMAX.
std::optional<int> signal_number(std::string_view name_or_number);

}  // namespace crashwrap::parsers
