/*
 * importance_outlier.c: nodes whose importance stands far above the rest of the network.
 */
#include "detect/detect.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert.h"

void na__anomaly_free(na__anomaly *a)
{
    for (size_t i = 0; i < a->n_node_ids; i++)
        free(a->node_ids[i]);
    free(a->node_ids);
    json_decref(a->details);
    memset(a, 0, sizeof(*a));
}

void na__outlier_state_free(na__outlier_state *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->ids[i]);
    free(s->ids);
    memset(s, 0, sizeof(*s));
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double median_of(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static bool was_flagged(const na__outlier_state *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->ids[i], id) == 0)
            return true;
    return false;
}

int na__detect_importance_outliers(const na_analysis *a, double threshold, na_time_ms now,
                                   na__outlier_state *prev, na__anomaly **out, size_t *n_out)
{
    size_t n = a->rob.n, n_flag = 0;
    double *tmp = NULL, med, mad, scale;
    na__outlier_state next = {0};
    int rc = NA_ENOMEM;

    *out = NULL;
    *n_out = 0;
    if (!(a->kinds & NA_ANALYSIS_ROBUSTNESS) || n < 5)
        return NA_OK;
    tmp = malloc(n * sizeof(*tmp));
    next.ids = calloc(n, sizeof(*next.ids));
    *out = calloc(n, sizeof(**out));
    if (!tmp || !next.ids || !*out)
        goto out;
    memcpy(tmp, a->rob.importance, n * sizeof(*tmp));
    med = median_of(tmp, n);
    for (size_t i = 0; i < n; i++)
        tmp[i] = fabs(a->rob.importance[i] - med);
    mad = median_of(tmp, n);
    if (mad > 0) {
        scale = 0.6745 / mad;
    } else {
        double mean_ad = 0;
        for (size_t i = 0; i < n; i++)
            mean_ad += tmp[i];
        mean_ad /= (double)n;
        if (!(mean_ad > 0)) {
            rc = NA_OK; /* every node equally important: nothing stands out */
            goto out;
        }
        scale = 1.0 / (1.2533 * mean_ad);
    }
    for (size_t v = 0; v < n; v++) {
        double z = (a->rob.importance[v] - med) * scale;
        const char *id = na_topology_node(a->topo, v)->id;
        na__anomaly *an;
        if (!(z >= threshold))
            continue;
        next.ids[next.n] = strdup(id);
        if (!next.ids[next.n])
            goto out;
        next.n++;
        if (was_flagged(prev, id))
            continue;
        an = &(*out)[n_flag];
        na__random_id(an->id);
        snprintf(an->detector, sizeof(an->detector), "importance_outlier");
        an->score = z;
        an->node_ids = calloc(1, sizeof(char *));
        if (!an->node_ids || !(an->node_ids[0] = strdup(id)))
            goto out;
        an->n_node_ids = 1;
        an->detected_at = now;
        an->details = json_pack("{s:o, s:o, s:o, s:f, s:I}", "importance",
                                na_json_real(a->rob.importance[v]), "median_importance",
                                na_json_real(med), "relative_loss",
                                na_json_real(a->rob.relative_loss[v]), "threshold", threshold,
                                "topology_version", (json_int_t)na_topology_version(a->topo));
        n_flag++;
    }
    rc = NA_OK;
out:
    free(tmp);
    if (rc) {
        for (size_t i = 0; *out && i < n; i++)
            na__anomaly_free(&(*out)[i]);
        free(*out);
        *out = NULL;
        n_flag = 0;
        na__outlier_state_free(&next);
    } else {
        na__outlier_state_free(prev);
        *prev = next;
    }
    *n_out = n_flag;
    if (n_flag == 0) {
        free(*out);
        *out = NULL;
    }
    return rc;
}


json_t *na__anomaly_json(const na__anomaly *a)
{
    json_t *ids = json_array();

    for (size_t i = 0; i < a->n_node_ids; i++)
        json_array_append_new(ids, json_string(a->node_ids[i]));
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "anomaly_id", a->id, "detector",
                     a->detector, "score", na_json_real(a->score), "contributing_node_ids", ids,
                     "detected_at", na__time_json(a->detected_at), "details",
                     a->details ? json_incref(a->details) : json_object());
}

enum { NC_DETECTOR, NC_SCORE, NC_NODES, NC_AT, NC_DETAILS, NC_N };

int na__anomaly_row(const na__anomaly *a, na_wh_value *values, char **scratch)
{
    json_t *ids = json_array();
    char *ids_text, *details;
    size_t ncols, li, ld;

    (void)na_wh_table_columns(NA_WH_ANOMALIES, &ncols);
    for (size_t i = 0; i < a->n_node_ids; i++)
        json_array_append_new(ids, json_string(a->node_ids[i]));
    ids_text = json_dumps(ids, JSON_COMPACT);
    json_decref(ids);
    details = a->details ? json_dumps(a->details, JSON_COMPACT | JSON_SORT_KEYS) : strdup("{}");
    if (ncols != NC_N || !ids_text || !details) {
        free(ids_text);
        free(details);
        return ncols != NC_N ? NA_EINVAL : NA_ENOMEM;
    }
    li = strlen(ids_text) + 1;
    ld = strlen(details) + 1;
    *scratch = malloc(40 + li + ld);
    if (!*scratch) {
        free(ids_text);
        free(details);
        return NA_ENOMEM;
    }
    na_time_format(a->detected_at, *scratch, 40);
    memcpy(*scratch + 40, ids_text, li);
    memcpy(*scratch + 40 + li, details, ld);
    free(ids_text);
    free(details);
    values[NC_DETECTOR].type = NA_WH_TEXT;
    values[NC_DETECTOR].v.s = a->detector;
    values[NC_SCORE].type = isfinite(a->score) ? NA_WH_REAL : NA_WH_NULL;
    values[NC_SCORE].v.r = a->score;
    values[NC_NODES].type = NA_WH_TEXT;
    values[NC_NODES].v.s = *scratch + 40;
    values[NC_AT].type = NA_WH_TEXT;
    values[NC_AT].v.s = *scratch;
    values[NC_DETAILS].type = NA_WH_TEXT;
    values[NC_DETAILS].v.s = *scratch + 40 + li;
    return NA_OK;
}

json_t *na__anomaly_json_from_row(const na_wh_version *v)
{
    const na_wh_value *c = v->row.values;
    json_t *ids = c[NC_NODES].type == NA_WH_TEXT ? json_loads(c[NC_NODES].v.s, 0, NULL) : NULL;
    json_t *details =
        c[NC_DETAILS].type == NA_WH_TEXT ? json_loads(c[NC_DETAILS].v.s, 0, NULL) : NULL;
    na_time_ms at = 0;

    if (!json_is_array(ids)) {
        json_decref(ids);
        ids = json_array();
    }
    if (!json_is_object(details)) {
        json_decref(details);
        details = json_object();
    }
    if (c[NC_AT].type == NA_WH_TEXT)
        na_time_parse(c[NC_AT].v.s, strlen(c[NC_AT].v.s), &at);
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "anomaly_id", v->row.id, "detector",
                     c[NC_DETECTOR].type == NA_WH_TEXT ? c[NC_DETECTOR].v.s : "unknown", "score",
                     c[NC_SCORE].type == NA_WH_REAL ? na_json_real(c[NC_SCORE].v.r)
                     : c[NC_SCORE].type == NA_WH_INT ? json_real((double)c[NC_SCORE].v.i)
                                                     : json_real(0),
                     "contributing_node_ids", ids, "detected_at", na__time_json(at), "details",
                     details);
}
