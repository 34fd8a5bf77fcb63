#include <cstdio>

int parse(const char* s) {
  if (!s[0]) throw 42;
  return s[0] - '0';
}

int main() {
  std::printf("%d\n", parse("7"));
  std::printf("%d\n", parse(""));
}
