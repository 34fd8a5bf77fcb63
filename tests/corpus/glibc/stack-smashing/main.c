#include <stdio.h>
#include <string.h>

static void greet(const char* name) {
  char buf[8];
  strcpy(buf, name);
  printf("hello %s\n", buf);
}

int main(void) {
  greet("ann");
  greet("bartholomew the third");
  return 0;
}
