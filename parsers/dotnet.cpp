#include "parsers/detectors.h"

namespace crashwrap::parsers {

std::unique_ptr<Detector> make_dotnet_detector() {
  Spec s;
  s.name = "dotnet";
  s.runtime = "dotnet";
  s.platform = "csharp";
  s.anchors = {"Unhandled"};
  return std::make_unique<TableDetector>(std::move(s));
}

}  // namespace crashwrap::parsers
