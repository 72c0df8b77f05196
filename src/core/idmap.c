/* idmap.c: string -> index map; see idmap.h. */
#include "core/idmap.h"

#include <stdlib.h>
#include <string.h>

#include "netassure/common.h"

uint32_t na__hash_str(const char *s)
{
    uint32_t h = 2166136261u;  /* FNV-1a */

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

void na__idmap_init(na__idmap *m)
{
    memset(m, 0, sizeof(*m));
}

void na__idmap_free(na__idmap *m)
{
    free(m->slots);
    memset(m, 0, sizeof(*m));
}

static na__idmap_slot *find_slot(const na__idmap *m, const char *key, uint32_t h)
{
    size_t mask = m->cap - 1;

    for (size_t i = h & mask;; i = (i + 1) & mask) {
        na__idmap_slot *s = &m->slots[i];
        if (!s->key && !s->dead)
            return s;
        if (!s->dead && s->hash == h && strcmp(s->key, key) == 0)
            return s;
    }
}

static int grow(na__idmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 16;
    na__idmap_slot *old = m->slots;
    size_t ocap = m->cap;

    /* Rehash at the same size when tombstones, not live keys, fill the table. */
    if (m->cap && m->live * 4 < m->cap)
        ncap = m->cap;
    m->slots = calloc(ncap, sizeof(*m->slots));
    if (!m->slots) {
        m->slots = old;
        return NA_ENOMEM;
    }
    m->cap = ncap;
    m->used = m->live;
    for (size_t i = 0; i < ocap; i++) {
        if (old[i].key && !old[i].dead)
            *find_slot(m, old[i].key, old[i].hash) = old[i];
    }
    free(old);
    return NA_OK;
}

int na__idmap_put(na__idmap *m, const char *key, size_t value)
{
    uint32_t h = na__hash_str(key);
    na__idmap_slot *s;

    if ((m->used + 1) * 4 > m->cap * 3) {
        int rc = grow(m);
        if (rc)
            return rc;
    }
    s = find_slot(m, key, h);
    if (!s->key) {
        s->key = key;
        s->hash = h;
        m->used++;
        m->live++;
    }
    s->value = value;
    return NA_OK;
}

bool na__idmap_get(const na__idmap *m, const char *key, size_t *value)
{
    na__idmap_slot *s;

    if (!m->cap)
        return false;
    s = find_slot(m, key, na__hash_str(key));
    if (!s->key)
        return false;
    if (value)
        *value = s->value;
    return true;
}

bool na__idmap_del(na__idmap *m, const char *key)
{
    na__idmap_slot *s;

    if (!m->cap)
        return false;
    s = find_slot(m, key, na__hash_str(key));
    if (!s->key)
        return false;
    s->key = NULL;
    s->dead = true;
    m->live--;
    return true;
}
