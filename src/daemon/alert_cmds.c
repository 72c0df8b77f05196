/* alert_cmds.c: alert-manager commands of the API (silences, tunings), on the engine thread.
 * (Being written: issue 4's alert manager.) */
#include "daemon/daemon.h"

void na__daemon_alert_command(na__daemon *d, na_warehouse *wh, na__command *c)
{
    (void)d;
    (void)wh;
    c->rc = na_error_set(&c->err, NA_EINVAL, "silences and tunings are not available yet");
}
