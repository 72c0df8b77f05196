/*
 * graphml.c: the GraphML importer (graphml.graphdrawing.org), on libxml2's tree parser.
 *
 * Accepts: a <graphml> root (any namespace) with <key id= for= attr.name= attr.type=>
 * declarations, whose <default> child is the value of every node / edge without that <data>,
 * and a <graph edgedefault=> holding <node id=> and <edge id=? source= target=> elements with
 * <data key=> children, in any order. Only the first <graph> is read: further graphs, graphs
 * nested in nodes and <hyperedge>s are reported and skipped. Values are typed by their key:
 * boolean, int, long, float, double, string (no or an unknown attr.type reads as string); a
 * value that does not parse as its type counts in wrong_type and is kept as a string. <data>
 * with element content (yEd graphics) is skipped and counted in unknown_fields, as is <data>
 * naming an undeclared key (kept, named by the key id).
 *
 * Mapping: node id = the GraphML node id string; link id = the edge id, when given and not
 * already used (networkx repeats "0", "1", ... per node pair), else a generated one; fields by
 * attr.name with the rules of graph_file.h (label, Latitude / latitude, Longitude / longitude,
 * LinkLabel, LinkSpeedRaw, LinkSpeed x LinkSpeedUnits, role, asn, site, status; the rest kept
 * as typed free attributes). A graph-level `label` or `name` names the topology.
 *
 * Safety: parsed from memory with network access off; entity declarations are dropped, so no
 * external entity or DTD is ever loaded and nothing can expand; no external subset is read;
 * libxml2's default limits cap the nesting depth (256) and the size of a text node.
 *
 * Fatal, NA_EPARSE with the line (and column for XML errors): malformed XML, a root that is not
 * <graphml>, no <graph>, a node without an id or with a duplicate id, an edge without a source
 * or target or naming an unknown node.
 */
#include "netassure/io.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/globals.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "core/idmap.h"
#include "io/graph_file.h"

#define QUOTE_MAX 48

typedef enum vtype {
    V_STRING = 0,
    V_BOOL,
    V_INT,
    V_DOUBLE
} vtype;

enum { D_NODE = 1, D_EDGE = 2, D_GRAPH = 4 };

typedef struct gkey {
    const char *id;    /* arena */
    const char *name;  /* attr.name (arena) */
    vtype type;
    unsigned domain;   /* D_* this key applies to */
    size_t slot;       /* index of the first key with the same name: keys sharing a name
                          share one default */
    bool has_default;
    bool default_wrong;
    na_value def;
} gkey;

typedef struct graphml {
    na__gfile g;
    na_error *err;
    gkey *keys;
    size_t n_keys;
    size_t cap_keys;
    na__idmap key_ids;    /* key id -> index */
    na__idmap key_names;  /* attr.name -> first key index */
    unsigned long *stamp; /* by slot: serial of the last item that had data for it */
    unsigned long serial;
    /* the first XML error (a fatal one replaces an earlier recoverable one) */
    bool xml_failed;
    bool xml_fatal;
    long xml_line;
    long xml_column;
    int xml_code;
    char xml_message[256];
} graphml;

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
    xmlInitParser();
}

static int nomem(graphml *p)
{
    return na_error_set(p->err, NA_ENOMEM, "out of memory");
}

static long line_of(const xmlNode *n)
{
    long line = xmlGetLineNo(n);
    return line > 0 ? line : 0;
}

static int fail_at(graphml *p, const xmlNode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(graphml *p, const xmlNode *n, const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return na_error_set_at(p->err, NA_EPARSE, p->g.source, n ? line_of(n) : 0, 0, -1, "%s", msg);
}

/* ---- libxml2 hooks ---------------------------------------------------------------------- */

/*
 * Entity declarations are dropped: GraphML needs none, and without them libxml2 has nothing
 * to load (external entities) or expand (billion laughs). A reference to one is then an
 * undeclared entity, which libxml2 reports.
 */
static void drop_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                             const xmlChar *system_id, xmlChar *content)
{
    (void)ctx, (void)name, (void)type, (void)public_id, (void)system_id, (void)content;
}

static void drop_unparsed_entity_decl(void *ctx, const xmlChar *name, const xmlChar *public_id,
                                      const xmlChar *system_id, const xmlChar *notation)
{
    (void)ctx, (void)name, (void)public_id, (void)system_id, (void)notation;
}

static void copy_xml_message(char *dst, size_t len, const char *msg)
{
    size_t n;

    snprintf(dst, len, "%s", msg ? msg : "malformed XML");
    n = strlen(dst);
    while (n > 0 && (dst[n - 1] == '\n' || dst[n - 1] == ' '))
        dst[--n] = '\0';
}

/*
 * libxml2's structured error callback: keeps the first error for the failure message (a fatal
 * one wins over an earlier recoverable one) and reports the recoverable ones as warnings.
 */
static void on_xml_error(void *ctx, xmlErrorPtr e)
{
    xmlParserCtxtPtr ctxt = ctx;
    graphml *p = ctxt ? ctxt->_private : NULL;
    char msg[200];

    if (!p || !e)
        return;
    if (e->level >= XML_ERR_ERROR &&
        (!p->xml_failed || (e->level == XML_ERR_FATAL && !p->xml_fatal))) {
        p->xml_failed = true;
        p->xml_fatal = e->level == XML_ERR_FATAL;
        p->xml_line = e->line;
        p->xml_column = e->int2;
        p->xml_code = e->code;
        copy_xml_message(p->xml_message, sizeof(p->xml_message), e->message);
    }
    if (e->level == XML_ERR_FATAL)
        return;
    copy_xml_message(msg, sizeof(msg), e->message);
    na__gfile_warn(&p->g, e->line, "XML: %s", msg);
}

/*
 * Errors libxml2 raises without a parser context (character encoding, I/O) would otherwise be
 * printed on stderr; while we parse they come here, as warnings (the parser context reports
 * the failure they cause).
 */
static void on_stray_xml_error(void *data, xmlErrorPtr e)
{
    graphml *p = data;
    char msg[200];

    if (!p || !e)
        return;
    copy_xml_message(msg, sizeof(msg), e->message);
    na__gfile_warn(&p->g, e->line, "XML: %s", msg);
}

/* ---- Tree helpers ----------------------------------------------------------------------- */

static bool is_elem(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/*
 * Copies in the arena of the unqualified attributes names[0..count) of n into out[] (NULL for
 * an absent one). 0 or NA_ENOMEM.
 */
static int get_attrs(graphml *p, const xmlNode *n, const char *const *names, const char **out,
                     size_t count)
{
    for (size_t i = 0; i < count; i++)
        out[i] = NULL;
    for (const xmlAttr *a = n->properties; a; a = a->next) {
        size_t i = 0;
        xmlChar *v;
        while (i < count && (a->ns || strcmp((const char *)a->name, names[i]) != 0))
            i++;
        if (i == count || out[i])
            continue;
        if (!a->children) {
            out[i] = na__arena_strdup(&p->g.arena, "");
        } else if (a->children->type == XML_TEXT_NODE && !a->children->next) {
            out[i] = na__arena_strdup(&p->g.arena, (const char *)a->children->content);
        } else {
            v = xmlNodeListGetString(n->doc, a->children, 1);
            if (!v)
                return nomem(p);
            out[i] = na__arena_strdup(&p->g.arena, (const char *)v);
            xmlFree(v);
        }
        if (!out[i])
            return nomem(p);
    }
    return NA_OK;
}

/* One attribute, as get_attrs. */
static int get_attr(graphml *p, const xmlNode *n, const char *name, const char **out)
{
    return get_attrs(p, n, &name, out, 1);
}

/*
 * The text of element n (its text and CDATA children) in the arena. *nested is set when n has
 * element children (structured data we do not read), *entity when it holds entity references
 * (left out: entities are never expanded).
 */
static int element_text(graphml *p, const xmlNode *n, const char **out, bool *nested,
                        bool *entity)
{
    size_t total = 0, used = 0;
    char *buf;

    *nested = *entity = false;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
            total += strlen((const char *)c->content);
        else if (c->type == XML_ELEMENT_NODE)
            *nested = true;
        else if (c->type == XML_ENTITY_REF_NODE)
            *entity = true;
    }
    buf = na__arena_alloc(&p->g.arena, total + 1);
    if (!buf)
        return nomem(p);
    for (const xmlNode *c = n->children; c; c = c->next) {
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content) {
            size_t len = strlen((const char *)c->content);
            memcpy(buf + used, c->content, len);
            used += len;
        }
    }
    buf[used] = '\0';
    *out = buf;
    return NA_OK;
}

/* ---- Typed values ----------------------------------------------------------------------- */

static const char *vtype_name(vtype t)
{
    switch (t) {
    case V_BOOL: return "a boolean";
    case V_INT: return "an integer";
    case V_DOUBLE: return "a number";
    default: return "text";
    }
}

static const char *trim(const char *s, size_t *len)
{
    size_t n = strlen(s);

    while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    *len = n;
    return s;
}

static bool parse_bool(const char *s, bool *out)
{
    size_t n;
    const char *t = trim(s, &n);

    if ((n == 4 && strncasecmp(t, "true", 4) == 0) || (n == 1 && t[0] == '1')) {
        *out = true;
        return true;
    }
    if ((n == 5 && strncasecmp(t, "false", 5) == 0) || (n == 1 && t[0] == '0')) {
        *out = false;
        return true;
    }
    return false;
}

static bool parse_int(const char *s, int64_t *out)
{
    size_t n, i = 0;
    const char *t = trim(s, &n);
    bool neg = false;
    uint64_t v = 0;

    if (n && (t[0] == '-' || t[0] == '+')) {
        neg = t[0] == '-';
        i++;
    }
    if (i == n)
        return false;
    for (; i < n; i++) {
        if (t[i] < '0' || t[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(t[i] - '0');
        if (v > (uint64_t)INT64_MAX + neg)
            return false;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

static bool parse_double(const char *s, double *out)
{
    size_t n;
    const char *t = trim(s, &n);
    char *end;

    if (n == 0)
        return false;
    *out = strtod(t, &end);
    return end == t + n;
}

/*
 * Converts `text` (in the arena) to a value of type t. On a mismatch counts wrong_type, warns,
 * keeps the text as a string and sets *wrong.
 */
static void typed_value(graphml *p, vtype t, const char *text, const char *name, long line,
                        na_value *out, bool *wrong)
{
    bool ok = true;

    memset(out, 0, sizeof(*out));
    *wrong = false;
    switch (t) {
    case V_BOOL:
        out->type = NA_VAL_BOOL;
        ok = parse_bool(text, &out->u.b);
        break;
    case V_INT:
        out->type = NA_VAL_INT;
        ok = parse_int(text, &out->u.i);
        break;
    case V_DOUBLE:
        out->type = NA_VAL_DOUBLE;
        ok = parse_double(text, &out->u.d);
        break;
    default:
        break;
    }
    if (t == V_STRING || !ok) {
        out->type = NA_VAL_STRING;
        out->u.s = text;
    }
    if (!ok) {
        *wrong = true;
        if (p->g.rep)
            p->g.rep->wrong_type++;
        na__gfile_warn(&p->g, line, "%s \"%.*s\" is not %s (kept as text)", name, QUOTE_MAX,
                       text, vtype_name(t));
    }
}

/* ---- Keys ------------------------------------------------------------------------------- */

static vtype parse_vtype(graphml *p, const char *s, long line)
{
    static const struct { const char *name; vtype t; } types[] = {
        {"string", V_STRING}, {"boolean", V_BOOL}, {"int", V_INT},
        {"long", V_INT},      {"float", V_DOUBLE}, {"double", V_DOUBLE},
    };
    if (!s)
        return V_STRING;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(s, types[i].name) == 0)
            return types[i].t;
    }
    na__gfile_warn(&p->g, line, "key type '%.*s' unknown; read as string", QUOTE_MAX, s);
    return V_STRING;
}

static unsigned parse_domain(const char *s)
{
    if (!s || strcmp(s, "all") == 0)
        return D_NODE | D_EDGE | D_GRAPH;
    if (strcmp(s, "node") == 0)
        return D_NODE;
    if (strcmp(s, "edge") == 0)
        return D_EDGE;
    if (strcmp(s, "graph") == 0)
        return D_GRAPH;
    return 0;  /* port, hyperedge, endpoint, graphml: nothing we read */
}

static int parse_key(graphml *p, const xmlNode *n)
{
    static const char *const names[] = {"id", "for", "attr.name", "attr.type"};
    const char *v[4], *id, *domain, *name, *type;
    long line = line_of(n);
    gkey *k;
    size_t slot;
    int rc = get_attrs(p, n, names, v, 4);

    if (rc)
        return rc;
    id = v[0];
    domain = v[1];
    name = v[2];
    type = v[3];
    if (!id) {
        na__gfile_warn(&p->g, line, "<key> without an id ignored");
        return NA_OK;
    }
    if (na__idmap_get(&p->key_ids, id, NULL)) {
        na__gfile_warn(&p->g, line, "key '%.*s' declared again; keeping the first", QUOTE_MAX,
                       id);
        return NA_OK;
    }
    if (p->n_keys == p->cap_keys) {
        size_t ncap = p->cap_keys ? p->cap_keys * 2 : 16;
        gkey *nk = realloc(p->keys, ncap * sizeof(*nk));
        if (!nk)
            return nomem(p);
        p->keys = nk;
        p->cap_keys = ncap;
    }
    k = &p->keys[p->n_keys];
    memset(k, 0, sizeof(*k));
    k->id = id;
    k->name = name ? name : id;
    k->type = parse_vtype(p, type, line);
    k->domain = parse_domain(domain);
    if (!na__idmap_get(&p->key_names, k->name, &slot)) {
        slot = p->n_keys;
        if (na__idmap_put(&p->key_names, k->name, slot))
            return nomem(p);
    }
    k->slot = slot;
    if (na__idmap_put(&p->key_ids, k->id, p->n_keys))
        return nomem(p);
    p->n_keys++;
    for (const xmlNode *c = n->children; c; c = c->next) {
        const char *text;
        bool nested, entity;
        if (!is_elem(c, "default"))
            continue;
        rc = element_text(p, c, &text, &nested, &entity);
        if (rc)
            return rc;
        if (nested) {
            na__gfile_warn(&p->g, line_of(c), "key '%.*s': structured default ignored",
                           QUOTE_MAX, id);
            break;
        }
        k->has_default = true;
        typed_value(p, k->type, text, k->name, line_of(c), &k->def, &k->default_wrong);
        break;
    }
    return NA_OK;
}

/* ---- Graph ------------------------------------------------------------------------------ */

/* Adds the <data> element d to the current node or edge. */
static int add_data(graphml *p, const xmlNode *d)
{
    const char *key, *text, *name;
    long line = line_of(d);
    bool nested, entity, wrong;
    size_t ki;
    vtype t = V_STRING;
    na_value v;
    int rc;

    rc = get_attr(p, d, "key", &key);
    if (rc)
        return rc;
    if (!key) {
        if (p->g.rep)
            p->g.rep->unknown_fields++;
        na__gfile_warn(&p->g, line, "<data> without a key skipped");
        return NA_OK;
    }
    if (na__idmap_get(&p->key_ids, key, &ki)) {
        name = p->keys[ki].name;
        t = p->keys[ki].type;
        p->stamp[p->keys[ki].slot] = p->serial;
    } else {
        name = key;
        if (p->g.rep)
            p->g.rep->unknown_fields++;
        na__gfile_warn(&p->g, line, "<data> for undeclared key '%.*s' (kept as text)", QUOTE_MAX,
                       key);
    }
    rc = element_text(p, d, &text, &nested, &entity);
    if (rc)
        return rc;
    if (nested) {
        if (p->g.rep)
            p->g.rep->unknown_fields++;
        na__gfile_warn(&p->g, line, "<data> '%.*s' has element content; skipped", QUOTE_MAX,
                       name);
        return NA_OK;
    }
    if (entity)
        na__gfile_warn(&p->g, line, "<data> '%.*s': entity references left out", QUOTE_MAX, name);
    typed_value(p, t, text, name, line, &v, &wrong);
    return na__gfile_add_field(&p->g, name, &v, line, wrong) ? nomem(p) : NA_OK;
}

/* Reads the <data> children of node or edge n, then the defaults it lacks. */
static int add_fields(graphml *p, const xmlNode *n, unsigned domain)
{
    const char *what = domain == D_NODE ? "node" : "edge";
    bool warned_graph = false;
    int rc;

    p->serial++;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (is_elem(c, "data")) {
            rc = add_data(p, c);
            if (rc)
                return rc;
        } else if (is_elem(c, "graph") && !warned_graph) {
            warned_graph = true;
            na__gfile_warn(&p->g, line_of(c), "graph nested in a %s skipped", what);
        }
    }
    for (size_t i = 0; i < p->n_keys; i++) {
        const gkey *k = &p->keys[i];
        if (!k->has_default || !(k->domain & domain) || p->stamp[k->slot] == p->serial)
            continue;
        p->stamp[k->slot] = p->serial;
        if (na__gfile_add_field(&p->g, k->name, &k->def, line_of(n), k->default_wrong))
            return nomem(p);
    }
    return NA_OK;
}

static int read_node(graphml *p, const xmlNode *n)
{
    na__gfile_item *it;
    const char *id;
    int rc = get_attr(p, n, "id", &id);

    if (rc)
        return rc;
    if (!id || !id[0])
        return fail_at(p, n, "<node> without an id (expected a non-empty id attribute)");
    it = na__gfile_begin(&p->g, NA__GFILE_NODE, line_of(n), 0);
    if (!it)
        return nomem(p);
    it->id = id;
    return add_fields(p, n, D_NODE);
}

static int read_edge(graphml *p, const xmlNode *n)
{
    static const char *const names[] = {"id", "source", "target"};
    na__gfile_item *it;
    const char *v[3], *id, *source, *target;
    int rc = get_attrs(p, n, names, v, 3);

    if (rc)
        return rc;
    id = v[0];
    source = v[1];
    target = v[2];
    if (!source || !target)
        return fail_at(p, n, "<edge> without a %s (expected source and target attributes)",
                       source ? "target" : "source");
    it = na__gfile_begin(&p->g, NA__GFILE_EDGE, line_of(n), 0);
    if (!it)
        return nomem(p);
    it->id = id && id[0] ? id : NULL;
    it->source = source;
    it->target = target;
    return add_fields(p, n, D_EDGE);
}

/* Graph-level <data>: only a name for the topology. */
static int read_graph_data(graphml *p, const xmlNode *d)
{
    const char *key, *text;
    bool nested, entity;
    size_t ki;
    int rc = get_attr(p, d, "key", &key);

    if (rc || !key || p->g.name || !na__idmap_get(&p->key_ids, key, &ki))
        return rc;
    if (strcmp(p->keys[ki].name, "label") != 0 && strcmp(p->keys[ki].name, "name") != 0)
        return NA_OK;
    rc = element_text(p, d, &text, &nested, &entity);
    if (!rc && !nested && text[0])
        p->g.name = text;
    return rc;
}

static int read_graph(graphml *p, const xmlNode *graph)
{
    const char *edgedefault;
    size_t hyperedges = 0;
    int rc = get_attr(p, graph, "edgedefault", &edgedefault);

    if (rc)
        return rc;
    if (edgedefault && strcmp(edgedefault, "directed") == 0)
        na__gfile_warn(&p->g, line_of(graph), "directed graph: links are read as undirected");
    for (const xmlNode *c = graph->children; c; c = c->next) {
        if (is_elem(c, "node"))
            rc = read_node(p, c);
        else if (is_elem(c, "edge"))
            rc = read_edge(p, c);
        else if (is_elem(c, "data"))
            rc = read_graph_data(p, c);
        else if (is_elem(c, "hyperedge") && hyperedges++ == 0)
            na__gfile_warn(&p->g, line_of(c), "hyperedges are not supported; skipped");
        if (rc)
            return rc;
    }
    if (hyperedges > 1)
        na__gfile_warn(&p->g, line_of(graph), "%zu hyperedges skipped in all", hyperedges);
    return NA_OK;
}

static int read_document(graphml *p, const xmlDoc *doc)
{
    const xmlNode *root = xmlDocGetRootElement(doc), *graph = NULL;
    size_t extra_graphs = 0;
    int rc;

    if (!root)
        return fail_at(p, NULL, "expected a <graphml> root element, found none");
    if (!is_elem(root, "graphml"))
        return fail_at(p, root, "expected a <graphml> root element, found <%.*s>", QUOTE_MAX,
                       (const char *)root->name);
    for (const xmlNode *c = root->children; c; c = c->next) {
        if (is_elem(c, "key")) {
            rc = parse_key(p, c);
            if (rc)
                return rc;
        } else if (is_elem(c, "graph")) {
            if (!graph)
                graph = c;
            else if (extra_graphs++ == 0)
                na__gfile_warn(&p->g, line_of(c), "more than one graph; only the first is read");
        }
    }
    if (!graph)
        return fail_at(p, root, "expected a <graph> element in <graphml>, found none");
    p->stamp = calloc(p->n_keys ? p->n_keys : 1, sizeof(*p->stamp));
    if (!p->stamp)
        return nomem(p);
    return read_graph(p, graph);
}

int na_import_graphml(const char *data, size_t len, const char *source, na_topology **out,
                      na_import_report *rep, na_error *err)
{
    xmlParserCtxtPtr ctxt;
    xmlDocPtr doc = NULL;
    xmlStructuredErrorFunc saved_handler;
    void *saved_context;
    graphml p;
    int rc = NA_OK;

    *out = NULL;
    if (!source)
        source = "<input>";
    na_import_report_init(rep);
    if (!data && len)
        return na_error_set(err, NA_EINVAL, "no data");
    if (len > NA_IMPORT_MAX_BYTES || len > INT_MAX)
        return na_error_set_at(err, NA_ETOOBIG, source, 0, 0, -1,
                               "input is %zu bytes, more than the limit of %zu", len,
                               (size_t)NA_IMPORT_MAX_BYTES);
    pthread_once(&xml_once, xml_init);

    memset(&p, 0, sizeof(p));
    p.err = err;
    na__gfile_init(&p.g, source, rep);
    na__idmap_init(&p.key_ids);
    na__idmap_init(&p.key_names);

    ctxt = xmlCreateMemoryParserCtxt(data ? data : "", (int)len);
    if (!ctxt) {
        rc = len ? nomem(&p)
                 : na_error_set_at(err, NA_EPARSE, source, 1, 1, 0,
                                   "expected a <graphml> document, found empty input");
        goto out_free;
    }
    /*
     * No network, no entity substitution, no DTD loading; errors come to on_xml_error
     * instead of stderr; line numbers beyond 65535 kept.
     */
    xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOERROR |
                                XML_PARSE_NOWARNING | XML_PARSE_BIG_LINES | XML_PARSE_COMPACT);
    ctxt->replaceEntities = 0;
    ctxt->loadsubset = 0;
    ctxt->validate = 0;
    ctxt->sax->entityDecl = drop_entity_decl;
    ctxt->sax->unparsedEntityDecl = drop_unparsed_entity_decl;
    ctxt->sax->externalSubset = NULL;
    ctxt->sax->resolveEntity = NULL;
    ctxt->sax->serror = on_xml_error;
    ctxt->_private = &p;
    /* libxml2's handler globals are per thread: this touches no other thread's parsing */
    saved_handler = xmlStructuredError;
    saved_context = xmlStructuredErrorContext;
    xmlSetStructuredErrorFunc(&p, on_stray_xml_error);
    xmlParseDocument(ctxt);
    xmlSetStructuredErrorFunc(saved_context, saved_handler);
    doc = ctxt->myDoc;
    ctxt->myDoc = NULL;
    if (!ctxt->wellFormed || p.xml_fatal) {
        if (p.xml_failed)
            rc = na_error_set_at(err, NA_EPARSE, source, p.xml_line, p.xml_column, -1,
                                 "malformed XML: %s%s", p.xml_message,
                                 p.xml_code == XML_ERR_UNDECLARED_ENTITY
                                     ? " (entity declarations are ignored: use the predefined "
                                       "XML entities or character references)"
                                     : "");
        else if (ctxt->errNo == XML_ERR_NO_MEMORY)
            rc = nomem(&p);
        else
            rc = na_error_set_at(err, NA_EPARSE, source, ctxt->input ? ctxt->input->line : 0, 0,
                                 -1, "malformed XML");
        goto out_free_ctxt;
    }
    rc = read_document(&p, doc);
    if (!rc)
        rc = na__gfile_build(&p.g, out, err);

out_free_ctxt:
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
out_free:
    free(p.stamp);
    free(p.keys);
    na__idmap_free(&p.key_ids);
    na__idmap_free(&p.key_names);
    na__gfile_free(&p.g);
    return rc;
}
