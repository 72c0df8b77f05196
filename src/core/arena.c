/* arena.c: bump allocator; see arena.h. */
#include "core/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct na__arena_block {
    na__arena_block *next;
    size_t size;
    size_t used;
    _Alignas(16) unsigned char data[];
};

enum { ARENA_BLOCK = 64 * 1024 };

void na__arena_init(na__arena *a)
{
    a->head = NULL;
}

void na__arena_free(na__arena *a)
{
    na__arena_block *b = a->head;

    while (b) {
        na__arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

void *na__arena_alloc(na__arena *a, size_t size)
{
    na__arena_block *b = a->head;
    size_t need = (size + 15u) & ~(size_t)15u;

    if (need < size)
        return NULL;
    if (!b || b->size - b->used < need) {
        size_t cap = need > ARENA_BLOCK / 2 ? need : ARENA_BLOCK;
        na__arena_block *nb;

        if (cap > SIZE_MAX - sizeof(*nb))
            return NULL;
        nb = malloc(sizeof(*nb) + cap);
        if (!nb)
            return NULL;
        nb->size = cap;
        nb->used = 0;
        if (b && need > ARENA_BLOCK / 2) {
            /* Large allocation: put it behind the current block so its free space stays usable. */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            a->head = nb;
        }
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += need;
    return p;
}

char *na__arena_strndup(na__arena *a, const char *s, size_t len)
{
    char *p;

    if (!s)
        return NULL;
    p = na__arena_alloc(a, len + 1);
    if (!p)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *na__arena_strdup(na__arena *a, const char *s)
{
    return s ? na__arena_strndup(a, s, strlen(s)) : NULL;
}

void na__arena_steal(na__arena *to, na__arena *from)
{
    na__arena_block *last = from->head;

    if (!last)
        return;
    while (last->next)
        last = last->next;
    last->next = to->head;
    to->head = from->head;
    from->head = NULL;
}
