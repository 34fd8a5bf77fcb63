#include <cstdio>
int main() { std::puts("crashwrap " CRASHWRAP_VERSION); return 0; }
