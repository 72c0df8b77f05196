/*
 * fuzz_daemon_config.c: the daemon's YAML configuration reader on arbitrary bytes.
 *
 * Any input must come back as 0 or a negative code with a message. An accepted configuration
 * must be consistent: as many sources / rules / detectors as the document's lists hold
 * (counted here with libyaml directly), every string set, values in their documented ranges,
 * branding and banners already normalised (checking them again changes nothing), and the same
 * result when parsed twice.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "daemon/config.h"

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond);                         \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

typedef struct list_counts {
    long sources, rules, detectors; /* -1: absent or not a list */
} list_counts;

/* Items of the top-level lists, from libyaml's document tree (last duplicate key wins, as in
 * the reader; key text up to its first NUL, as in the reader). */
static void count_lists(const uint8_t *data, size_t size, list_counts *c)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_node_t *root;

    c->sources = c->rules = c->detectors = -1;
    if (!yaml_parser_initialize(&parser))
        abort();
    yaml_parser_set_input_string(&parser, data, size);
    if (!yaml_parser_load(&parser, &doc)) {
        yaml_parser_delete(&parser);
        return;
    }
    root = yaml_document_get_root_node(&doc);
    if (root && root->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
             p < root->data.mapping.pairs.top; p++) {
            yaml_node_t *k = yaml_document_get_node(&doc, p->key);
            yaml_node_t *v = yaml_document_get_node(&doc, p->value);
            long n = -1;
            const char *key;
            if (!k || k->type != YAML_SCALAR_NODE)
                continue;
            key = (const char *)k->data.scalar.value;
            if (v && v->type == YAML_SEQUENCE_NODE)
                n = (long)(v->data.sequence.items.top - v->data.sequence.items.start);
            if (strcmp(key, "sources") == 0)
                c->sources = n;
            else if (strcmp(key, "alert_rules") == 0)
                c->rules = n;
            else if (strcmp(key, "detectors") == 0)
                c->detectors = n;
        }
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
}

static void check_consistent(const na__daemon_config *cfg, const uint8_t *data, size_t size)
{
    static const char *const severities[] = {"critical", "major", "minor", "warning", "info"};
    list_counts lc;
    json_t *again;

    CHECK(cfg->origin && strcmp(cfg->origin, "<fuzz>") == 0);
    CHECK(memchr(cfg->listen_host, '\0', sizeof(cfg->listen_host)) != NULL);
    CHECK(cfg->listen_host[0] != '\0');
    CHECK(cfg->listen_port >= 0 && cfg->listen_port <= 65535);
    CHECK(cfg->data_dir && cfg->warehouse);
    CHECK(cfg->log_level >= NA_LOG_ERROR && cfg->log_level <= NA_LOG_DEBUG);
    CHECK(!cfg->api_token || strlen(cfg->api_token) >= 8);
    CHECK(cfg->max_body >= 1024 && cfg->max_body <= ((size_t)256 << 20));
    CHECK(cfg->analytics_threads <= 1024);
    CHECK(cfg->retention.step_ms >= 1000);
    CHECK(cfg->retention.keep_ms >= 0 && cfg->retention.downsample_after_ms >= 0);

    count_lists(data, size, &lc);
    /* with snmp devices (or crawling) the poller is one more source, the last */
    CHECK((long)cfg->n_sources == (lc.sources < 0 ? 0 : lc.sources) +
                                      ((cfg->snmp.n_devices || cfg->snmp.crawl) ? 1 : 0));
    CHECK((long)cfg->n_rules == (lc.rules < 0 ? 0 : lc.rules));
    CHECK((long)cfg->n_detectors == (lc.detectors < 0 ? 0 : lc.detectors));
    CHECK(cfg->n_sources == 0 || cfg->sources);
    CHECK(cfg->n_rules == 0 || cfg->rules);
    CHECK(cfg->n_detectors == 0 || cfg->detectors);
    for (size_t i = 0; i < cfg->n_sources; i++) {
        const na__source_config *s = &cfg->sources[i];
        CHECK(s->name && s->type);
        if (strcmp(s->type, "snmp") == 0) {
            CHECK(i + 1 == cfg->n_sources && !s->path && !s->url);
            continue;
        }
        if (strcmp(s->type, "ws") == 0) {
            CHECK(s->url && (strncmp(s->url, "ws://", 5) == 0 || strncmp(s->url, "wss://", 6) == 0));
            continue;
        }
        CHECK(s->path && s->path[0]);
        CHECK(strcmp(s->type, "file") == 0);
        CHECK(s->interval_ms >= 100);
    }
    /* snmp: every device has a host and credentials that exist; sites have names */
    CHECK(cfg->snmp.n_creds >= 1);
    for (size_t i = 0; i < cfg->snmp.n_devices; i++) {
        const na_snmp_device_config *dc = &cfg->snmp.devices[i];
        CHECK(dc->host && dc->host[0]);
        CHECK(na__snmp_config_creds(&cfg->snmp, dc->credentials) != NULL);
        CHECK(dc->retries >= -1 && dc->retries <= 10);
    }
    for (size_t i = 0; i < cfg->snmp.n_sites; i++)
        CHECK(cfg->snmp.sites[i].name && cfg->snmp.sites[i].name[0]);
    CHECK(!cfg->snmp.crawl || cfg->snmp.n_crawl_subnets > 0);
    for (size_t i = 0; i < cfg->n_rules; i++) {
        const na__rule_config *r = &cfg->rules[i];
        size_t k;
        CHECK(r->name && r->severity);
        CHECK(r->type >= NA_RULE_ARTICULATION_POINT && r->type <= NA_RULE_CUSTOM);
        for (k = 0; k < 5 && strcmp(r->severity, severities[k]) != 0; k++)
            ;
        CHECK(k < 5);
        CHECK(r->threshold >= -1e12 && r->threshold <= 1e12);
    }
    for (size_t i = 0; i < cfg->n_detectors; i++) {
        CHECK(cfg->detectors[i].type &&
              strcmp(cfg->detectors[i].type, "importance_outlier") == 0);
        CHECK(cfg->detectors[i].threshold >= 0 && cfg->detectors[i].threshold <= 1e6);
    }

    /* Normalised values are fixed points of their checks. */
    CHECK(json_is_object(cfg->branding));
    CHECK(json_object_size(cfg->branding) == 4);
    again = na__config_check_branding(cfg->branding, NULL, NULL);
    CHECK(again && json_equal(again, cfg->branding));
    json_decref(again);
    CHECK(json_is_array(cfg->banners) && json_array_size(cfg->banners) <= 20);
    again = na__config_check_banners(cfg->banners, NULL);
    CHECK(again && json_equal(again, cfg->banners));
    json_decref(again);
}

/* The parts two parses of the same bytes must agree on. */
static void check_same(const na__daemon_config *a, const na__daemon_config *b)
{
    CHECK(strcmp(a->listen_host, b->listen_host) == 0 && a->listen_port == b->listen_port);
    CHECK(strcmp(a->data_dir, b->data_dir) == 0 && strcmp(a->warehouse, b->warehouse) == 0);
    CHECK(a->n_sources == b->n_sources && a->n_rules == b->n_rules &&
          a->n_detectors == b->n_detectors);
    for (size_t i = 0; i < a->n_sources; i++) {
        const char *pa = a->sources[i].path ? a->sources[i].path : a->sources[i].url;
        const char *pb = b->sources[i].path ? b->sources[i].path : b->sources[i].url;
        CHECK(strcmp(a->sources[i].type, b->sources[i].type) == 0);
        CHECK((!pa && !pb) || (pa && pb && strcmp(pa, pb) == 0));
    }
    CHECK(a->snmp.n_devices == b->snmp.n_devices && a->snmp.n_creds == b->snmp.n_creds &&
          a->snmp.n_sites == b->snmp.n_sites);
    for (size_t i = 0; i < a->n_rules; i++)
        CHECK(strcmp(a->rules[i].name, b->rules[i].name) == 0 && a->rules[i].type == b->rules[i].type);
    CHECK(json_equal(a->branding, b->branding) && json_equal(a->banners, b->banners));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    na__daemon_config cfg, cfg2;
    na_error err;
    int rc;

    na_error_clear(&err);
    rc = na__config_parse((const char *)data, size, "<fuzz>", "/base", &cfg, &err);
    if (rc != 0) {
        /* Rejected: a known code, the reason in err, nothing left to free. */
        CHECK(rc < 0 && rc >= NA_EUNSUPPORTED);
        CHECK(err.code == rc);
        CHECK(err.message[0] != '\0');
        CHECK(cfg.origin == NULL && cfg.sources == NULL && cfg.branding == NULL);
        return 0;
    }
    check_consistent(&cfg, data, size);
    CHECK(na__config_parse((const char *)data, size, "<fuzz>", "/base", &cfg2, NULL) == 0);
    check_same(&cfg, &cfg2);
    na__config_free(&cfg2);
    na__config_free(&cfg);
    CHECK(cfg.origin == NULL && cfg.n_sources == 0);
    return 0;
}
