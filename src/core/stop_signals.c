/* stop_signals.c: SIGINT / SIGTERM as a readable pipe, for the daemon and the commands that run
 * until stopped (core/stop.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "core/stop.h"

static int stop_pipe[2] = {-1, -1};

void na__stop_raise(int sig)
{
    unsigned char b = (unsigned char)sig;
    int saved = errno;

    if (stop_pipe[1] >= 0 && write(stop_pipe[1], &b, 1) < 0) {
        /* a full pipe already says "stop" */
    }
    errno = saved;
}

int na__stop_fd(void)
{
    struct sigaction sa;

    if (stop_pipe[0] >= 0)
        return stop_pipe[0];
    if (pipe(stop_pipe))
        return -1;
    /* A handler must never block: when the pipe is full, "stop" is already said. */
    if (fcntl(stop_pipe[1], F_SETFL, fcntl(stop_pipe[1], F_GETFL) | O_NONBLOCK))
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = na__stop_raise;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
        return -1;
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL))
        return -1;
    return stop_pipe[0];
}
