// Factories of the runtime detectors, one per file under parsers/. The
// registry (registry.cpp) lists them by name and alias.
#pragma once

#include <memory>

#include "parsers/detector.h"

namespace crashwrap::parsers {

// Add one declaration per runtime detector file.

}  // namespace crashwrap::parsers
