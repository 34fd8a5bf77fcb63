#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { char name[16]; int refs; } session_t;

static session_t* open_session(const char* name) {
  session_t* s = calloc(1, sizeof *s);
  strncpy(s->name, name, sizeof s->name - 1);
  s->refs = 1;
  return s;
}

static void release(session_t* s) {
  if (--s->refs == 0) free(s);
}

static int touch(session_t* s) { return ++s->refs; }

int main(void) {
  session_t* s = open_session("alice");
  release(s);
  printf("refs %d\n", touch(s));
  return 0;
}
