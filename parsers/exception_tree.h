// Turns exceptions collected in the order a runtime prints them into Sentry's
// order. While parsing, a detector numbers each exception with its printed
// index (Mechanism::exception_id) and the printed index of the exception that
// holds it as a cause, inner exception or group member (Mechanism::parent_id;
// nullopt for the outermost). Pure.
#pragma once

#include <vector>

#include "parsers/model.h"

namespace crashwrap::parsers {

// Numbers the most recently added exception of `printed` and links it to
// `parent` (a printed index, or -1 for none).
void link_last(std::vector<Exception>& printed, int parent);

// Reorders `printed` so that every exception comes after the exceptions it
// holds (causes before their effect, group members in printed order before
// their group), as Sentry's exception.values wants. The outermost exception
// keeps id 0 and ends up last. A lone exception loses its ids; so does an
// exception list whose numbering is missing or inconsistent, or that is
// longer than 256 (then it is simply reversed, the order of printed causes).
void order_oldest_first(std::vector<Exception>& printed);

}  // namespace crashwrap::parsers
