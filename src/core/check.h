// POCKET_CHECK: always-on invariant checks for our own logic (never for outside input).
#pragma once

#include <cstdio>
#include <cstdlib>

#define POCKET_CHECK(cond)                                                                   \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "%s:%d: internal check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)

#ifdef NDEBUG
#define POCKET_DCHECK(cond) ((void)0)
#else
#define POCKET_DCHECK(cond) POCKET_CHECK(cond)
#endif
