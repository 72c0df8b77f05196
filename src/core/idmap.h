/*
 * idmap.h (internal): string id -> index hash map (open addressing, linear probing,
 * tombstones). Keys are borrowed: they must outlive the map.
 */
#ifndef NA_CORE_IDMAP_H
#define NA_CORE_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct na__idmap_slot {
    const char *key;   /* NULL = empty */
    size_t value;
    uint32_t hash;
    bool dead;         /* tombstone */
} na__idmap_slot;

typedef struct na__idmap {
    na__idmap_slot *slots;
    size_t cap;        /* power of two */
    size_t used;       /* live + tombstones */
    size_t live;
} na__idmap;

uint32_t na__hash_str(const char *s);
void na__idmap_init(na__idmap *m);
void na__idmap_free(na__idmap *m);
/* Inserts or replaces; 0 or NA_ENOMEM. */
int na__idmap_put(na__idmap *m, const char *key, size_t value);
/* true and *value when present. */
bool na__idmap_get(const na__idmap *m, const char *key, size_t *value);
bool na__idmap_del(na__idmap *m, const char *key);

#endif
