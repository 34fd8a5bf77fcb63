#include "parsers/detectors.h"

namespace crashwrap::parsers {

std::unique_ptr<Detector> make_java_detector() {
  Spec s;
  s.name = "java";
  s.runtime = "java";
  s.platform = "java";
  s.anchors = {"Exception in"};
  return std::make_unique<TableDetector>(std::move(s));
}

}  // namespace crashwrap::parsers
