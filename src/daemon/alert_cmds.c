/*
 * alert_cmds.c: alert-manager commands of the API (POST /silences, DELETE /silences/{id},
 * DELETE /tunings/{id}), run on the engine thread like every other write (docs/alerts.md).
 *
 * The store changes under the state lock; the new set of silences and tunings is saved to the
 * config table, alerts whose silenced state changed are written as a new version of their row
 * and published on /stream (a silence ending is when a held-back alert is finally notified).
 */
#include <stdlib.h>

#include "daemon/daemon.h"

static int alert_row(const na__alert *a, na_wh_row *row, na_wh_value *values, char **scratch)
{
    row->id = a->id;
    row->values = values;
    return na__alert_row(a, values, scratch);
}

/* The changed alerts as one partial observation of the alerts table (caller holds d->lock:
 * the rows point into the alerts). Failures are logged: the state in memory stays right. */
static void write_changed(na_warehouse *wh, na__alert **list, size_t n, na_time_ms at)
{
    size_t ncols;
    na_wh_row *rows = calloc(n + 1, sizeof(*rows));
    na_wh_value *vals;
    char **scratch = calloc(n + 1, sizeof(*scratch));
    na_time_ms last;
    na_error err;
    size_t k = 0;

    (void)na_wh_table_columns(NA_WH_ALERTS, &ncols);
    vals = calloc((n + 1) * ncols, sizeof(*vals));
    if (!rows || !vals || !scratch) {
        na_log(NA_LOG_ERROR, "alerts: out of memory writing %zu changed alerts", n);
        goto out;
    }
    for (; k < n; k++)
        if (alert_row(list[k], &rows[k], &vals[k * ncols], &scratch[k])) {
            na_log(NA_LOG_ERROR, "alerts: cannot make the row of alert %s", list[k]->id);
            goto out;
        }
    /* Observations of a table never go back in time, even if the clock did. */
    if (na_wh_last_observation(wh, NA_WH_ALERTS, &last, NULL) == NA_OK && last > at)
        at = last;
    na_error_clear(&err);
    if (na_wh_observe(wh, NA_WH_ALERTS, rows, n, at, NA_WH_PARTIAL, NULL, &err))
        na_log(NA_LOG_ERROR, "alerts: warehouse write failed: %s", err.message);
out:
    for (size_t i = 0; scratch && i < k; i++)
        free(scratch[i]);
    free(scratch);
    free(vals);
    free(rows);
}

void na__daemon_alert_command(na__daemon *d, na_warehouse *wh, na__command *c)
{
    na_time_ms now = na_time_now();
    na__alert **changed = NULL;
    size_t n_changed = 0;
    const char *what = "";
    na_error err;

    na_error_clear(&c->err);
    pthread_mutex_lock(&d->lock);
    switch (c->kind) {
    case NA_CMD_SILENCE_ADD:
        what = "silence added";
        c->rc = na__alert_silence_add(&d->alerts, c->input, now, &c->output, &changed,
                                      &n_changed, &c->err);
        break;
    case NA_CMD_SILENCE_DELETE:
        what = "silence deleted";
        c->rc = na__alert_silence_delete(&d->alerts, c->alert_id, now, &c->output, &changed,
                                         &n_changed, &c->err);
        break;
    case NA_CMD_TUNING_DELETE:
        what = "feedback effect removed";
        c->rc = na__alert_tuning_delete(&d->alerts, c->alert_id, now, &c->output, &c->err);
        break;
    default:
        c->rc = na_error_set(&c->err, NA_EINVAL, "not an alert-manager command");
        break;
    }
    if (c->rc == NA_OK) {
        na_error_clear(&err);
        if (na__alert_store_save(&d->alerts, wh, now, &err))
            na_log(NA_LOG_ERROR, "alerts: saving silences and tunings failed: %s", err.message);
        if (n_changed)
            write_changed(wh, changed, n_changed, now);
        for (size_t i = 0; i < n_changed; i++)
            na__daemon_publish(d, "alert", changed[i]->node_id, changed[i]->severity,
                               na__alert_json(changed[i]));
        na_log(NA_LOG_INFO, "alerts: %s (%s); %zu alerts changed their silenced state", what,
               json_string_value(json_object_get(c->output, c->kind == NA_CMD_TUNING_DELETE
                                                                 ? "tuning_id"
                                                                 : "silence_id")),
               n_changed);
    }
    pthread_mutex_unlock(&d->lock);
    free(changed);
}
