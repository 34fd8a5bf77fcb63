// A saved envelope as text for people (`crashwrap show`): the event's headline
// fields, its exceptions with frames top-first (the reverse of Sentry's
// oldest-first order, as a traceback reads in a terminal), the exit, contexts
// and tags, then each attachment (the output tail) verbatim.
// Pure functions; any thread.
#pragma once

#include <string>

#include "sinks/envelope.h"

namespace crashwrap::agent {

// The event item of `envelope` rendered as lines; "" when it has no event item
// (or the event is not a JSON object).
std::string render_event(const sinks::ParsedEnvelope& envelope);

// Each attachment as "--- <filename> (<n> bytes) ---\n" followed by its bytes
// (and a newline if they do not end with one).
std::string render_attachments(const sinks::ParsedEnvelope& envelope);

}  // namespace crashwrap::agent
