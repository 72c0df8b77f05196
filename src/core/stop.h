/*
 * core/stop.h (internal): SIGINT / SIGTERM as a readable pipe. Libraries start threads of their
 * own before main (OpenBLAS's pool), so masks alone cannot keep a signal off them; the handler
 * only writes the signal number to a pipe (never blocking) and whoever waits reads it.
 */
#ifndef NA_CORE_STOP_H
#define NA_CORE_STOP_H

/* The first call installs the handlers (SIGINT, SIGTERM; SIGPIPE ignored) and returns the
 * pipe's read end, readable once a signal arrived or na__stop_raise was called; -1 on
 * failure (errno set). Later calls return the same descriptor. */
int na__stop_fd(void);
/* Makes the stop fd readable, as a signal would (async-signal-safe; sig 0 for "done"). */
void na__stop_raise(int sig);

#endif
