/*
 * detect/detect.h (internal): anomaly detectors and the anomalies they report.
 *
 * Issue 3 ships one structural detector (importance outliers); the streaming detectors of
 * seed 001 (Matrix Profile, Isolation Forest, LSTM, GNN) plug in here with the same record.
 */
#ifndef NA_DETECT_H
#define NA_DETECT_H

#include <jansson.h>
#include <stdbool.h>

#include "netassure/report.h"
#include "netassure/warehouse.h"

typedef struct na__anomaly {
    char id[40];
    char detector[40];
    double score;
    char **node_ids;
    size_t n_node_ids;
    na_time_ms detected_at;
    json_t *details;
} na__anomaly;

void na__anomaly_free(na__anomaly *a);

/*
 * Importance outliers: the robust z-score z = 0.6745 (x - median) / MAD of each node's
 * importance against all nodes of the analysis (Iglewicz and Hoaglin's modified z-score; when
 * the MAD is 0, the mean absolute deviation times 1.2533 stands in). Nodes with z >= threshold
 * are outliers. An anomaly is reported when a node becomes an outlier (it was not one in the
 * previous analysis: `prev` holds the ids flagged then, updated in place), so an unchanged
 * network does not repeat itself. *out is a malloc'd array of *n_out anomalies (free each
 * with na__anomaly_free, then the array).
 */
typedef struct na__outlier_state {
    char **ids;
    size_t n;
} na__outlier_state;

int na__detect_importance_outliers(const na_analysis *a, double threshold, na_time_ms now,
                                   na__outlier_state *prev, na__anomaly **out, size_t *n_out);
void na__outlier_state_free(na__outlier_state *s);

/* API object (docs/openapi.json "Anomaly"). */
json_t *na__anomaly_json(const na__anomaly *a);
/* Warehouse row (NA_WH_ANOMALIES: detector, score, node_ids (JSON array text), detected_at,
 * details); strings point into `a` and *scratch (free after the write). */
int na__anomaly_row(const na__anomaly *a, na_wh_value *values, char **scratch);
json_t *na__anomaly_json_from_row(const na_wh_version *v);

#endif
