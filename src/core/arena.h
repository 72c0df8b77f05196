/*
 * arena.h (internal): a bump allocator. Everything allocated from an arena is freed at once by
 * na__arena_free; snapshots, deltas and parsers keep their strings in one.
 */
#ifndef NA_CORE_ARENA_H
#define NA_CORE_ARENA_H

#include <stddef.h>

typedef struct na__arena_block na__arena_block;

typedef struct na__arena {
    na__arena_block *head;
} na__arena;

void na__arena_init(na__arena *a);
/* Frees every block; the arena may be reused afterwards. */
void na__arena_free(na__arena *a);
/* 16-byte aligned memory, NULL on ENOMEM. */
void *na__arena_alloc(na__arena *a, size_t size);
/* Copies of s (NULL gives NULL; *ok set to 0 on ENOMEM when s is not NULL). */
char *na__arena_strdup(na__arena *a, const char *s);
char *na__arena_strndup(na__arena *a, const char *s, size_t len);
/* Moves every block of `from` into `to`; `from` is left empty. */
void na__arena_steal(na__arena *to, na__arena *from);

#endif
