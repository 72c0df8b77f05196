/*
 * alert_cmds.c: alert-manager commands of the API (POST /silences, DELETE /silences/{id},
 * DELETE /tunings/{id}), run on the engine thread like every other write (docs/alerts.md).
 *
 * The store changes under the state lock; the new set of silences and tunings is saved to the
 * config table, alerts whose silenced state changed are written as a new version of their row
 * and published (daemon/live.c).
 */
#include <stdlib.h>

#include "daemon/daemon.h"

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
        na_log(NA_LOG_INFO, "alerts: %s (%s); %zu alerts changed their silenced state", what,
               json_string_value(json_object_get(c->output, c->kind == NA_CMD_TUNING_DELETE
                                                                 ? "tuning_id"
                                                                 : "silence_id")),
               n_changed);
    }
    pthread_mutex_unlock(&d->lock);
    /* Rows, /stream and NATS like every other alert change (a silence ending is when a
     * held-back alert is finally notified). Only this thread changes the store. */
    if (c->rc == NA_OK)
        na__live_alerts_changed(d, wh, changed, n_changed, now);
    free(changed);
}
