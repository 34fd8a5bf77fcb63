#include "parsers/detectors.h"

namespace crashwrap::parsers {

std::unique_ptr<Detector> make_node_detector() {
  Spec s;
  s.name = "node";
  s.runtime = "node";
  s.platform = "node";
  s.anchors = {"Node.js v"};
  return std::make_unique<TableDetector>(std::move(s));
}

}  // namespace crashwrap::parsers
