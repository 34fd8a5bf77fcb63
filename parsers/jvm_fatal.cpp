#include "parsers/detectors.h"

namespace crashwrap::parsers {

std::unique_ptr<Detector> make_jvm_fatal_detector() {
  Spec s;
  s.name = "jvm-fatal";
  s.runtime = "jvm-fatal";
  s.platform = "java";
  s.anchors = {"# A fatal error"};
  return std::make_unique<TableDetector>(std::move(s));
}

}  // namespace crashwrap::parsers
