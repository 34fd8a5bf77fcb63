#include "config/release_detect.h"

namespace crashwrap::config {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

const std::vector<std::string_view>& release_variables() {
  static const std::vector<std::string_view> names{
      "SOURCE_VERSION",                     // Heroku (build), sentry-cli
      "HEROKU_SLUG_COMMIT",                 // Heroku (dyno metadata), sentry-cli
      "K_REVISION",                         // Cloud Run, Knative
      "GIT_COMMIT",                         // Jenkins
      "GITHUB_SHA",                         // GitHub Actions
      "CI_COMMIT_SHA",                      // GitLab CI
      "CIRCLE_SHA1",                        // CircleCI
      "BITBUCKET_COMMIT",                   // Bitbucket Pipelines
      "BUILDKITE_COMMIT",                   // Buildkite
      "CODEBUILD_RESOLVED_SOURCE_VERSION",  // AWS CodeBuild
      "AWS_COMMIT_ID",                      // AWS Amplify
      "BUILD_SOURCEVERSION",                // Azure Pipelines
      "TRAVIS_COMMIT",                      // Travis CI
      "DRONE_COMMIT_SHA",                   // Drone
      "SEMAPHORE_GIT_SHA",                  // Semaphore
      "APPVEYOR_REPO_COMMIT",               // AppVeyor
      "BUILD_VCS_NUMBER",                   // TeamCity
      "CIRRUS_CHANGE_IN_REPO",              // Cirrus CI
      "CF_REVISION",                        // Codefresh
      "CM_COMMIT",                          // Codemagic
      "VERCEL_GIT_COMMIT_SHA",              // Vercel
      "CF_PAGES_COMMIT_SHA",                // Cloudflare Pages
      "COMMIT_REF",                         // Netlify
      "RENDER_GIT_COMMIT",                  // Render
      "RAILWAY_GIT_COMMIT_SHA",             // Railway
  };
  return names;
}

bool valid_release(std::string_view name) {
  if (name.empty() || name.size() > 200 || name == "." || name == ".." || trim(name).empty()) return false;
  for (char c : name)
    if (c == '\n' || c == '\r' || c == '\t' || c == '/' || c == '\\') return false;
  return true;
}

std::optional<DetectedRelease> detect_release(const std::map<std::string, std::string>& env) {
  for (std::string_view name : release_variables()) {
    auto it = env.find(std::string(name));
    if (it == env.end()) continue;
    std::string_view value = trim(it->second);
    if (valid_release(value)) return DetectedRelease{std::string(value), name};
  }
  return std::nullopt;
}

}  // namespace crashwrap::config
