/*
 * test_snmp_collect.c: the SNMP collector (src/snmp/collect.c) against real agents:
 *   - snmpsimd serving our small fixture (tests/fixtures/snmp/small.snmprec) and three copies
 *     of a shared LibreNMS recording: what we collect is exactly what the recording holds in
 *     the walked subtrees (expectation from na__snmprec_load + na__snmp_store_subtree);
 *   - SNMPv3 through snmpsimd: authPriv SHA/AES, authNoPriv MD5, noAuthNoPriv, SHA-256/AES-256,
 *     a wrong auth passphrase, a wrong privacy passphrase, bad credential combinations;
 *   - tests/tools/bad_snmp_agent.py: silent, looping, noSuch*, wrong types, truncated
 *     datagrams, duplicate indexes, a wrapping Counter32;
 *   - a port nobody listens on, an unknown host, max_in_flight, max_varbinds, the stop flag, a
 *     callback that stops, two threads collecting at once.
 * Tests that need snmpsimd (or the shared recordings) skip visibly without them.
 * Timeouts below are per-request settings of the collector; nothing asserts elapsed time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "harness.h"
#include "snmp/snmp.h"

#define MAX_RESULTS 16
#define SHARED_RECORDING "dell-os10"

/* Every subtree the collector is asked to walk (the brief's list), plus the system group. */
static const char *const subtrees[] = {
    "1.3.6.1.2.1.1",            "1.3.6.1.2.1.2.2.1",         "1.3.6.1.2.1.31.1.1.1",
    "1.0.8802.1.1.2.1.3",       "1.0.8802.1.1.2.1.4.1",      "1.0.8802.1.1.2.1.4.2",
    "1.3.6.1.4.1.9.9.23.1.2.1", "1.3.6.1.2.1.17.1.4.1.2",    "1.3.6.1.2.1.17.4.3",
    "1.3.6.1.2.1.17.7.1.2.2",   "1.3.6.1.2.1.4.35",          "1.3.6.1.2.1.4.22",
    "1.3.6.1.2.1.47.1.1.1",     "1.3.6.1.2.1.99.1.1",        "1.3.6.1.2.1.131.1.1",
    "1.3.6.1.4.1.9.9.91.1.1.1", "1.3.6.1.2.1.25.3.3.1.2",    "1.3.6.1.2.1.25.2.3",
    "1.3.6.1.2.1.25.3.2",       "1.3.6.1.2.1.4.20",          "1.3.6.1.2.1.4.34",
};

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- child processes ---------------------------------------------------------------------- */

typedef struct env {
    pid_t agent_pid, sim_pid;
    int agent_port, sim_port;
    bool sim_ok, shared_ok;
    char sim_dir[64];
} env;

static env E;

static void stop_child(pid_t *pid)
{
    int status;

    if (*pid <= 0)
        return;
    kill(*pid, SIGTERM);
    for (int k = 0; k < 50; k++) {
        if (waitpid(*pid, &status, WNOHANG) == *pid) {
            *pid = 0;
            return;
        }
        sleep_ms(100);
    }
    kill(*pid, SIGKILL);
    waitpid(*pid, &status, 0);
    *pid = 0;
}

static void remove_tree(const char *dir)
{
    char cmd[256];

    if (!dir[0])
        return;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* Also on exit(): no agent outlives the test (they also watch their parent, see below). */
static void stop_children(void)
{
    stop_child(&E.agent_pid);
    stop_child(&E.sim_pid);
    remove_tree(E.sim_dir);
    E.sim_dir[0] = 0;
}

/* fork + exec argv with stdout to out_fd (-1: /dev/null) and stderr to err_fd; the child gets
 * SIGTERM when this process dies, whatever way it dies. */
static pid_t spawn(char *const argv[], int out_fd, int err_fd)
{
    pid_t pid = fork();

    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (out_fd < 0)
        out_fd = open("/dev/null", O_WRONLY);
    if (err_fd < 0)
        err_fd = open("/dev/null", O_WRONLY);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    execvp(argv[0], argv);
    _exit(127);
}

static bool in_path(const char *prog)
{
    const char *path = getenv("PATH");
    char buf[512];

    if (!path)
        path = "/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, prog);
        if (access(buf, X_OK) == 0)
            return true;
        path += n + (path[n] == ':');
    }
    return false;
}

static void start_bad_agent(void)
{
    char script[512], line[32] = "";
    char *argv[] = {"python3", script, NULL};
    int p[2];
    struct pollfd pfd;
    ssize_t got = 0;

    snprintf(script, sizeof(script), "%s/tests/tools/bad_snmp_agent.py", test_source_dir());
    assert_int_equal(pipe(p), 0);
    E.agent_pid = spawn(argv, p[1], -1);
    assert_true(E.agent_pid > 0);
    close(p[1]);
    pfd.fd = p[0];
    pfd.events = POLLIN;
    /* a liveness bound for python's start, not a speed check */
    while ((size_t)got < sizeof(line) - 1 && poll(&pfd, 1, 30000) > 0) {
        ssize_t r = read(p[0], line + got, sizeof(line) - 1 - (size_t)got);
        if (r <= 0)
            break;
        got += r;
        line[got] = 0;
        if (strchr(line, '\n'))
            break;
    }
    close(p[0]);
    E.agent_port = (int)strtol(line, NULL, 10);
    if (E.agent_port <= 0)
        fail_msg("bad_snmp_agent.py did not print its port (got \"%s\")", line);
}

static bool copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out;
    char buf[65536];
    size_t n;
    bool ok = true;

    if (!in)
        return false;
    if (!(out = fopen(to, "wb"))) {
        fclose(in);
        return false;
    }
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        ok = ok && fwrite(buf, 1, n, out) == n;
    fclose(in);
    ok = fclose(out) == 0 && ok;
    return ok && chmod(to, 0644) == 0;
}

static bool file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    bool found = false;

    if (!f)
        return false;
    while (!found && fgets(line, sizeof(line), f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

static void start_snmpsimd(void)
{
    char path[512], from[512], port_arg[64], data_arg[128], cache_arg[128], log[128];
    char shared[512];
    char *argv[64];
    int n = 0, log_fd;

    if (!in_path("snmpsimd"))
        return;
    snprintf(E.sim_dir, sizeof(E.sim_dir), "/tmp/na-snmpsim-XXXXXX");
    assert_non_null(mkdtemp(E.sim_dir));
    /* snmpsimd drops to nobody when started as root: everything must stay readable */
    assert_int_equal(chmod(E.sim_dir, 0755), 0);
    snprintf(path, sizeof(path), "%s/data", E.sim_dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/cache", E.sim_dir);
    assert_int_equal(mkdir(path, 0777), 0);
    assert_int_equal(chmod(path, 0777), 0);
    snprintf(from, sizeof(from), "%s/tests/fixtures/snmp/small.snmprec", test_source_dir());
    snprintf(path, sizeof(path), "%s/data/small.snmprec", E.sim_dir);
    assert_true(copy_file(from, path));
    if (test_shared_data("snmprec/" SHARED_RECORDING ".snmprec", shared, sizeof(shared))) {
        E.shared_ok = true;
        for (int k = 1; k <= 3; k++) {
            snprintf(path, sizeof(path), "%s/data/dev%d.snmprec", E.sim_dir, k);
            assert_true(copy_file(shared, path));
        }
    }
    E.sim_port = test_free_port(SOCK_DGRAM);
    snprintf(port_arg, sizeof(port_arg), "--agent-udpv4-endpoint=127.0.0.1:%d", E.sim_port);
    snprintf(data_arg, sizeof(data_arg), "--data-dir=%s/data", E.sim_dir);
    snprintf(cache_arg, sizeof(cache_arg), "--cache-dir=%s/cache", E.sim_dir);
    snprintf(log, sizeof(log), "%s/snmpsimd.log", E.sim_dir);
    /* timeout(1) stays root and forwards our death's SIGTERM to snmpsimd, whose own
     * parent-death signal is cleared when it drops privileges */
    argv[n++] = "timeout";
    argv[n++] = "-k";
    argv[n++] = "5";
    argv[n++] = "900";
    argv[n++] = "snmpsimd";
    argv[n++] = data_arg;
    argv[n++] = cache_arg;
    argv[n++] = port_arg;
    if (geteuid() == 0) {
        argv[n++] = "--process-user=nobody";
        argv[n++] = "--process-group=nogroup";
    }
    argv[n++] = "--v3-user=authpriv";
    argv[n++] = "--v3-auth-key=authpass123";
    argv[n++] = "--v3-auth-proto=SHA";
    argv[n++] = "--v3-priv-key=privpass123";
    argv[n++] = "--v3-priv-proto=AES";
    argv[n++] = "--v3-user=authnopriv";
    argv[n++] = "--v3-auth-key=authpass456";
    argv[n++] = "--v3-auth-proto=MD5";
    argv[n++] = "--v3-user=sha256";
    argv[n++] = "--v3-auth-key=authpass789";
    argv[n++] = "--v3-auth-proto=SHA256";
    argv[n++] = "--v3-priv-key=privpass789";
    argv[n++] = "--v3-priv-proto=AES256";
    argv[n++] = "--v3-user=noauth";
    argv[n] = NULL;
    log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(log_fd >= 0);
    E.sim_pid = spawn(argv, log_fd, log_fd);
    close(log_fd);
    assert_true(E.sim_pid > 0);
    /* ready once it says it listens (it indexes the recordings first); liveness bound 120 s */
    for (int k = 0; k < 1200; k++) {
        int status;
        if (file_has(log, "Listening at UDP/IPv4 endpoint")) {
            E.sim_ok = true;
            return;
        }
        if (waitpid(E.sim_pid, &status, WNOHANG) == E.sim_pid) {
            E.sim_pid = 0;
            break;
        }
        sleep_ms(100);
    }
    fprintf(stderr, "snmpsimd did not start; its log:\n");
    snprintf(path, sizeof(path), "cat '%s' >&2", log);
    if (system(path) != 0)
        fprintf(stderr, "(no log)\n");
}

static int group_setup(void **state)
{
    (void)state;
    atexit(stop_children);
    signal(SIGPIPE, SIG_IGN);
    start_bad_agent();
    start_snmpsimd();
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    stop_children();
    return 0;
}

static void need_snmpsimd(void)
{
    if (!E.sim_ok) {
        print_message("SKIPPED: snmpsimd is not installed or did not start\n");
        skip();
    }
}

/* ---- collecting ---------------------------------------------------------------------------- */

typedef struct result {
    bool got;
    na_snmp_store *st;
    na_snmp_collect_info info;
    char reason[256];
    char problems[4096];
} result;

typedef struct results {
    result r[MAX_RESULTS];
    size_t calls;
    int stop_after;               /* callback returns non-zero after this many (0: never) */
} results;

static int collect_cb(size_t index, na_snmp_store *st, const na_snmp_collect_info *info,
                      void *ud)
{
    results *rs = ud;
    result *r;
    size_t used = 0;

    assert_true(index < MAX_RESULTS);
    r = &rs->r[index];
    assert_false(r->got); /* once per target */
    assert_true(st->sorted);
    r->got = true;
    r->st = st;
    r->info = *info;
    snprintf(r->reason, sizeof(r->reason), "%s", info->reason ? info->reason : "");
    for (size_t k = 0; k < info->n_problems && used < sizeof(r->problems); k++) {
        int w = snprintf(r->problems + used, sizeof(r->problems) - used, "%s\n",
                         info->problems[k]);
        if (w > 0)
            used += (size_t)w;
    }
    rs->calls++;
    return rs->stop_after && rs->calls >= (size_t)rs->stop_after;
}

static void free_results(results *rs)
{
    for (size_t k = 0; k < MAX_RESULTS; k++)
        na__snmp_store_free(rs->r[k].st);
    memset(rs, 0, sizeof(*rs));
}

static void collect(const na_snmp_target *t, size_t n, const na_snmp_collect_opts *opts,
                    results *rs)
{
    na_error err;

    memset(&err, 0, sizeof(err));
    assert_true(n <= MAX_RESULTS);
    if (na__snmp_collect(t, n, opts, collect_cb, rs, &err) != NA_OK)
        fail_msg("na__snmp_collect: %s", err.message);
    assert_int_equal(rs->calls, n);
    for (size_t k = 0; k < n; k++) {
        assert_true(rs->r[k].got);
        assert_true(rs->r[k].info.finished_at >= rs->r[k].info.started_at);
    }
}

static const na_snmp_vb *raw_vb(const na_snmp_store *st, const char *oid_text)
{
    uint32_t oid[NA_SNMP_MAX_OID];
    int n = na__snmp_oid_parse(oid_text, strlen(oid_text), oid, NA_SNMP_MAX_OID);

    assert_true(n > 0);
    /* exact match, exceptions included (na__snmp_store_get hides them) */
    for (size_t k = 0; k < st->n; k++)
        if (na__snmp_oid_cmp(st->vbs[k].oid, st->vbs[k].oid_len, oid, (size_t)n) == 0)
            return &st->vbs[k];
    return NULL;
}

static void assert_octets(const na_snmp_store *st, const char *oid, const char *want)
{
    const na_snmp_vb *vb = raw_vb(st, oid);

    if (!vb)
        fail_msg("%s missing", oid);
    if (vb->type != NA_SNMP_OCTETS || vb->len != strlen(want) || memcmp(vb->v.s, want, vb->len))
        fail_msg("%s: type %d \"%.*s\", want OCTET STRING \"%s\"", oid, (int)vb->type,
                 (int)vb->len, vb->type == NA_SNMP_OCTETS ? (const char *)vb->v.s : "", want);
}

static void assert_has(const char *haystack, const char *needle, const char *what)
{
    if (!strstr(haystack, needle))
        fail_msg("%s: \"%s\" not in \"%s\"", what, needle, haystack);
}

static bool vb_equal(const na_snmp_vb *a, const na_snmp_vb *b)
{
    if (na__snmp_oid_cmp(a->oid, a->oid_len, b->oid, b->oid_len) || a->type != b->type)
        return false;
    switch (a->type) {
    case NA_SNMP_OCTETS:
    case NA_SNMP_IPADDRESS:
    case NA_SNMP_OPAQUE:
        return a->len == b->len && memcmp(a->v.s, b->v.s, a->len) == 0;
    case NA_SNMP_OBJECTID:
        return na__snmp_oid_cmp(a->v.oid, a->len, b->v.oid, b->len) == 0;
    case NA_SNMP_INTEGER:
        return a->v.i == b->v.i;
    case NA_SNMP_COUNTER32:
    case NA_SNMP_GAUGE32:
    case NA_SNMP_TIMETICKS:
    case NA_SNMP_COUNTER64:
        return a->v.u == b->v.u;
    default:
        return true;
    }
}

static na_snmp_store *load_recording(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *text;
    long len;
    na_snmp_store *st = NULL;
    na_error err;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    len = ftell(f);
    assert_true(len > 0);
    rewind(f);
    text = malloc((size_t)len);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    memset(&err, 0, sizeof(err));
    assert_int_equal(na__snmp_store_new(&st, &err), NA_OK);
    assert_int_equal(na__snmprec_load(text, (size_t)len, st, NULL, &err), NA_OK);
    free(text);
    return st;
}

/*
 * What a full poll of a recording must give: in every walked subtree exactly the recording's
 * varbinds (same OIDs, types, values), and nothing the recording does not hold (a system
 * scalar it lacks may come back as noSuchObject / noSuchInstance). Returns the number compared.
 */
static size_t assert_matches_recording(const result *r, const na_snmp_store *want,
                                       const char *name)
{
    const na_snmp_store *got = r->st;
    size_t compared = 0;

    if (!r->info.reachable || r->info.reason || r->info.n_problems)
        fail_msg("%s: reachable %d, reason \"%s\", problems:\n%s", name, r->info.reachable,
                 r->reason, r->problems);
    assert_int_equal(r->info.varbinds, got->n);
    assert_int_equal(got->duplicates, 0);
    for (size_t k = 0; k < sizeof(subtrees) / sizeof(subtrees[0]); k++) {
        uint32_t root[32];
        int len = na__snmp_oid_parse(subtrees[k], strlen(subtrees[k]), root, 32);
        size_t wf, gf, wn, gn;
        assert_true(len > 0);
        wn = na__snmp_store_subtree(want, root, (size_t)len, &wf);
        gn = na__snmp_store_subtree(got, root, (size_t)len, &gf);
        if (k == 0) {
            /* the system group: only the six scalars are asked for */
            size_t present = 0;
            for (size_t j = 0; j < wn; j++) {
                const na_snmp_vb *vb = &want->vbs[wf + j];
                if (vb->oid_len == 9 && vb->oid[7] >= 1 && vb->oid[7] <= 6 && vb->oid[8] == 0) {
                    const na_snmp_vb *g = na__snmp_store_get(got, vb->oid, vb->oid_len);
                    if (!g || !vb_equal(vb, g))
                        fail_msg("%s: system scalar .%u differs or is missing", name,
                                 vb->oid[7]);
                    present++;
                }
            }
            compared += present;
            continue;
        }
        if (gn != wn)
            fail_msg("%s: subtree %s: collected %zu varbinds, the recording holds %zu", name,
                     subtrees[k], gn, wn);
        for (size_t j = 0; j < wn; j++) {
            if (!vb_equal(&want->vbs[wf + j], &got->vbs[gf + j])) {
                char a[256], b[256];
                fail_msg("%s: %s differs from the recording's %s", name,
                         na__snmp_oid_format(got->vbs[gf + j].oid, got->vbs[gf + j].oid_len, a,
                                             sizeof(a)),
                         na__snmp_oid_format(want->vbs[wf + j].oid, want->vbs[wf + j].oid_len,
                                             b, sizeof(b)));
            }
        }
        compared += wn;
    }
    /* nothing invented: every collected varbind is in the recording */
    for (size_t k = 0; k < got->n; k++) {
        const na_snmp_vb *g = &got->vbs[k];
        const na_snmp_vb *w = na__snmp_store_get(want, g->oid, g->oid_len);
        char a[256];
        if (g->type == NA_SNMP_NOSUCHOBJECT || g->type == NA_SNMP_NOSUCHINSTANCE) {
            if (w)
                fail_msg("%s: %s came back as an exception but is recorded", name,
                         na__snmp_oid_format(g->oid, g->oid_len, a, sizeof(a)));
            continue;
        }
        if (!w || !vb_equal(g, w))
            fail_msg("%s: collected %s is not in the recording as such", name,
                     na__snmp_oid_format(g->oid, g->oid_len, a, sizeof(a)));
    }
    return compared;
}

/* A full poll of 127.0.0.1:port; the simulator gets more time than our quick bad agent. */
static na_snmp_target local_target(int port, const na_snmp_credentials *cred, int timeout_ms)
{
    na_snmp_target t;

    memset(&t, 0, sizeof(t));
    t.host = "127.0.0.1";
    t.port = (uint16_t)port;
    t.cred = cred;
    t.timeout_ms = timeout_ms;
    t.retries = 1;
    t.want = NA_SNMP_WANT_ALL;
    return t;
}

static na_snmp_target sim_target(const na_snmp_credentials *cred)
{
    return local_target(E.sim_port, cred, 1000);
}

static na_snmp_target agent_target(const na_snmp_credentials *cred)
{
    return local_target(E.agent_port, cred, 300);
}

/* ---- recordings ---------------------------------------------------------------------------- */

static void small_fixture_path(char *buf, size_t len)
{
    snprintf(buf, len, "%s/tests/fixtures/snmp/small.snmprec", test_source_dir());
}

static void test_small_fixture(void **state)
{
    na_snmp_credentials cred = {.version = NA_SNMP_V2C, .community = "small"};
    na_snmp_target t;
    results rs;
    char path[512];
    na_snmp_store *want;

    (void)state;
    need_snmpsimd();
    small_fixture_path(path, sizeof(path));
    want = load_recording(path);
    t = sim_target(&cred);
    t.max_repetitions = 4; /* several GETBULK rounds even on three ports */
    memset(&rs, 0, sizeof(rs));
    collect(&t, 1, NULL, &rs);
    /* every line of the fixture is in a walked subtree or a system scalar */
    assert_int_equal(assert_matches_recording(&rs.r[0], want, "small"), want->n);
    assert_true(rs.r[0].info.requests > 3);
    assert_int_equal(rs.r[0].info.timeouts, 0);
    na__snmp_store_free(want);
    free_results(&rs);
}

static void test_shared_recordings(void **state)
{
    na_snmp_credentials small = {.version = NA_SNMP_V2C, .community = "small"};
    na_snmp_credentials dev[3] = {{.version = NA_SNMP_V2C, .community = "dev1"},
                                  {.version = NA_SNMP_V2C, .community = "dev2"},
                                  {.version = NA_SNMP_V2C, .community = "dev3"}};
    na_snmp_target t[4];
    results rs;
    char path[512], shared[512];
    na_snmp_store *want_small, *want_dev;

    (void)state;
    need_snmpsimd();
    if (!E.shared_ok) {
        print_message("SKIPPED: shared recording snmprec/%s.snmprec absent\n", SHARED_RECORDING);
        skip();
    }
    assert_non_null(test_shared_data("snmprec/" SHARED_RECORDING ".snmprec", shared,
                                     sizeof(shared)));
    want_dev = load_recording(shared);
    small_fixture_path(path, sizeof(path));
    want_small = load_recording(path);
    for (int k = 0; k < 3; k++)
        t[k] = sim_target(&dev[k]);
    t[3] = sim_target(&small);
    memset(&rs, 0, sizeof(rs));
    collect(t, 4, NULL, &rs);
    for (int k = 0; k < 3; k++) {
        char name[16];
        size_t n;
        snprintf(name, sizeof(name), "dev%d", k + 1);
        n = assert_matches_recording(&rs.r[k], want_dev, name);
        assert_true(n > 500); /* the recording has real tables in those subtrees */
        print_message("dev%d: %zu varbinds in %zu requests\n", k + 1, rs.r[k].st->n,
                      rs.r[k].info.requests);
    }
    assert_int_equal(assert_matches_recording(&rs.r[3], want_small, "small"), want_small->n);
    na__snmp_store_free(want_dev);
    na__snmp_store_free(want_small);
    free_results(&rs);
}

/* ---- unreachable ---------------------------------------------------------------------------- */

static void test_unreachable(void **state)
{
    na_snmp_credentials cred = {.version = NA_SNMP_V2C, .community = "public"};
    na_snmp_target t[2];
    results rs;

    (void)state;
    t[0] = agent_target(&cred);
    t[0].port = (uint16_t)test_free_port(SOCK_DGRAM); /* nobody listens there */
    t[1] = agent_target(&cred);
    t[1].host = "no-such-host.invalid";
    memset(&rs, 0, sizeof(rs));
    collect(t, 2, NULL, &rs);
    assert_false(rs.r[0].info.reachable);
    assert_string_equal(rs.r[0].reason, "timeout");
    assert_int_equal(rs.r[0].info.requests, 1);
    assert_int_equal(rs.r[0].info.timeouts, 1);
    assert_int_equal(rs.r[0].st->n, 0);
    assert_false(rs.r[1].info.reachable);
    assert_string_equal(rs.r[1].reason, "unknown host");
    assert_int_equal(rs.r[1].info.requests, 0);
    free_results(&rs);
}

/* ---- misbehaving agents -------------------------------------------------------------------- */

static void test_bad_agents(void **state)
{
    static const char *const modes[] = {"public",   "silent", "loop",  "nosuch", "wrongtype",
                                        "truncated", "dupindex", "wrap", "toobig"};
    enum { N = sizeof(modes) / sizeof(modes[0]) };
    na_snmp_credentials cred[N];
    na_snmp_target t[N];
    results rs;
    const na_snmp_vb *vb;
    const result *r;

    (void)state;
    for (size_t k = 0; k < N; k++) {
        memset(&cred[k], 0, sizeof(cred[k]));
        cred[k].version = NA_SNMP_V2C;
        cred[k].community = modes[k];
        t[k] = agent_target(&cred[k]);
    }
    memset(&rs, 0, sizeof(rs));
    collect(t, N, NULL, &rs);

    r = &rs.r[0]; /* public: clean */
    assert_true(r->info.reachable);
    assert_string_equal(r->reason, "");
    assert_string_equal(r->problems, "");
    assert_octets(r->st, "1.3.6.1.2.1.1.5.0", "bad-public");
    assert_octets(r->st, "1.3.6.1.2.1.2.2.1.2.3", "eth2");
    vb = raw_vb(r->st, "1.3.6.1.2.1.31.1.1.1.6.2");
    assert_non_null(vb);
    assert_int_equal(vb->type, NA_SNMP_COUNTER64);
    assert_true(vb->v.u == 2000000000000ull);
    vb = raw_vb(r->st, "1.3.6.1.2.1.1.3.0");
    assert_non_null(vb);
    assert_int_equal(vb->type, NA_SNMP_TIMETICKS);

    r = &rs.r[1]; /* silent */
    assert_false(r->info.reachable);
    assert_string_equal(r->reason, "timeout");
    assert_int_equal(r->st->n, 0);

    r = &rs.r[2]; /* loop: stops the table, keeps what came before, the rest goes on */
    assert_true(r->info.reachable);
    assert_has(r->problems,
               "ifTable: non-increasing OID 1.3.6.1.2.1.2.2.1.1.1 after 1.3.6.1.2.1.2.2.1.2.3",
               "loop");
    assert_octets(r->st, "1.3.6.1.2.1.2.2.1.2.3", "eth2");
    assert_null(raw_vb(r->st, "1.3.6.1.2.1.2.2.1.3.1"));
    assert_octets(r->st, "1.3.6.1.2.1.31.1.1.1.1.3", "eth2");

    r = &rs.r[3]; /* nosuch: exceptions kept from the GET, walks stop with a problem */
    assert_true(r->info.reachable);
    assert_octets(r->st, "1.3.6.1.2.1.1.5.0", "bad-nosuch");
    vb = raw_vb(r->st, "1.3.6.1.2.1.1.1.0");
    assert_non_null(vb);
    assert_int_equal(vb->type, NA_SNMP_NOSUCHOBJECT);
    assert_null(na__snmp_store_get(r->st, vb->oid, vb->oid_len));
    vb = raw_vb(r->st, "1.3.6.1.2.1.1.4.0");
    assert_non_null(vb);
    assert_int_equal(vb->type, NA_SNMP_NOSUCHINSTANCE);
    assert_has(r->problems, "ifTable: noSuchObject in a GETBULK answer", "nosuch");
    assert_int_equal(r->st->n, 6);

    r = &rs.r[4]; /* wrongtype: stored as they came, no judgement here */
    assert_true(r->info.reachable);
    assert_string_equal(r->problems, "");
    assert_octets(r->st, "1.3.6.1.2.1.2.2.1.8.1", "up");
    assert_octets(r->st, "1.3.6.1.2.1.1.3.0", "up 3 days");
    vb = raw_vb(r->st, "1.3.6.1.2.1.31.1.1.1.6.2");
    assert_non_null(vb);
    assert_int_equal(vb->type, NA_SNMP_INTEGER);
    assert_true(vb->v.i == -10);

    r = &rs.r[5]; /* truncated: reachable, the walk gives up with a timeout problem */
    assert_true(r->info.reachable);
    assert_string_equal(r->reason, "timeout during walk");
    assert_has(r->problems, "timeout", "truncated");
    assert_true(r->info.timeouts >= 2);
    assert_non_null(raw_vb(r->st, "1.3.6.1.2.1.2.2.1.1.1")); /* the first GETBULK's answer */

    r = &rs.r[6]; /* dupindex: both rows kept as they came */
    assert_true(r->info.reachable);
    assert_string_equal(r->problems, "");
    vb = raw_vb(r->st, "1.3.6.1.2.1.2.2.1.1.1");
    assert_non_null(vb);
    assert_true(vb->type == NA_SNMP_INTEGER && vb->v.i == 1);
    vb = raw_vb(r->st, "1.3.6.1.2.1.2.2.1.1.2");
    assert_non_null(vb);
    assert_true(vb->type == NA_SNMP_INTEGER && vb->v.i == 1);

    r = &rs.r[7]; /* wrap: first poll near 2^32 */
    assert_true(r->info.reachable);
    vb = raw_vb(r->st, "1.3.6.1.2.1.2.2.1.10.1");
    assert_non_null(vb);
    assert_int_equal(vb->type, NA_SNMP_COUNTER32);
    {
        uint64_t first = vb->v.u;
        results again;
        assert_true(first > 4000000000u);
        memset(&again, 0, sizeof(again));
        collect(&t[7], 1, NULL, &again);
        vb = raw_vb(again.r[0].st, "1.3.6.1.2.1.2.2.1.10.1");
        assert_non_null(vb);
        assert_int_equal(vb->type, NA_SNMP_COUNTER32);
        assert_true(vb->v.u < first); /* wrapped; unwrapping is rates.c's job */
        free_results(&again);
    }

    r = &rs.r[8]; /* toobig: fewer repetitions, then one subtree per request, same data */
    assert_true(r->info.reachable);
    assert_string_equal(r->problems, "");
    assert_int_equal(r->st->n, rs.r[0].st->n);
    assert_true(r->info.requests > rs.r[0].info.requests);
    free_results(&rs);
}

/* ---- SNMPv3 ---------------------------------------------------------------------------------- */

static na_snmp_credentials v3(const char *user, na_snmp_seclevel level, const char *auth_proto,
                              const char *auth_pass, const char *priv_proto,
                              const char *priv_pass)
{
    na_snmp_credentials c;

    memset(&c, 0, sizeof(c));
    c.name = user;
    c.version = NA_SNMP_V3;
    c.user = user;
    c.level = level;
    c.auth_proto = auth_proto;
    c.auth_pass = auth_pass;
    c.priv_proto = priv_proto;
    c.priv_pass = priv_pass;
    c.context = "small"; /* snmpsimd: the context selects the recording */
    return c;
}

static void test_v3(void **state)
{
    na_snmp_credentials good[4] = {
        v3("authpriv", NA_SNMP_AUTHPRIV, "SHA", "authpass123", "AES", "privpass123"),
        v3("authnopriv", NA_SNMP_AUTHNOPRIV, "MD5", "authpass456", NULL, NULL),
        v3("sha256", NA_SNMP_AUTHPRIV, "SHA-256", "authpass789", "AES-256", "privpass789"),
        v3("noauth", NA_SNMP_NOAUTH, NULL, NULL, NULL, NULL),
    };
    na_snmp_credentials wrong_auth =
        v3("authpriv", NA_SNMP_AUTHPRIV, "SHA", "wrongpass123", "AES", "privpass123");
    na_snmp_credentials wrong_priv =
        v3("authpriv", NA_SNMP_AUTHPRIV, "SHA", "authpass123", "AES", "wrongpriv123");
    na_snmp_target t[4];
    results rs;
    char path[512];
    na_snmp_store *want;

    (void)state;
    need_snmpsimd();
    small_fixture_path(path, sizeof(path));
    want = load_recording(path);
    for (int k = 0; k < 4; k++)
        t[k] = sim_target(&good[k]);
    memset(&rs, 0, sizeof(rs));
    collect(t, 4, NULL, &rs);
    for (int k = 0; k < 4; k++) {
        assert_int_equal(assert_matches_recording(&rs.r[k], want, good[k].user), want->n);
        assert_int_equal(rs.r[k].info.timeouts, 0);
    }
    free_results(&rs);

    /* the same user and engine with a wrong auth passphrase: the agent's answers fail our
     * digest check; and right after it, the right one works again (keys are replaced) */
    t[0] = sim_target(&wrong_auth);
    t[1] = sim_target(&good[0]);
    memset(&rs, 0, sizeof(rs));
    collect(&t[0], 1, NULL, &rs);
    assert_false(rs.r[0].info.reachable);
    assert_string_equal(rs.r[0].reason, "authentication failure (usmStatsWrongDigests)");
    free_results(&rs);
    memset(&rs, 0, sizeof(rs));
    collect(&t[1], 1, NULL, &rs);
    assert_true(rs.r[0].info.reachable);
    free_results(&rs);

    /* a wrong privacy passphrase: snmpsimd drops what it cannot decrypt, without a report */
    t[0] = sim_target(&wrong_priv);
    memset(&rs, 0, sizeof(rs));
    collect(&t[0], 1, NULL, &rs);
    assert_false(rs.r[0].info.reachable);
    assert_has(rs.r[0].reason, "no answer with these credentials", "wrong privacy passphrase");
    free_results(&rs);
    na__snmp_store_free(want);
}

static int never_called(size_t index, na_snmp_store *st, const na_snmp_collect_info *info,
                        void *ud)
{
    (void)index;
    (void)info;
    (void)ud;
    na__snmp_store_free(st);
    fail_msg("callback called for an invalid setup");
    return 0;
}

static void test_bad_credentials(void **state)
{
    na_snmp_credentials bad[] = {
        v3("u", NA_SNMP_AUTHPRIV, "SHA", "authpass123", "AES", NULL),      /* no priv pass */
        v3("u", NA_SNMP_AUTHNOPRIV, "SHA", "short", NULL, NULL),          /* < 8 chars */
        v3("u", NA_SNMP_AUTHNOPRIV, "SHA-3", "authpass123", NULL, NULL),  /* unknown */
        v3("u", NA_SNMP_AUTHPRIV, "SHA", "authpass123", "ROT13", "privpass123"),
        v3("", NA_SNMP_NOAUTH, NULL, NULL, NULL, NULL),                   /* no user */
        {.version = NA_SNMP_V2C},                                         /* no community */
        {.version = (na_snmp_version)1, .community = "public"},            /* v1 */
    };
    na_snmp_credentials ok = {.version = NA_SNMP_V2C, .community = "public"};

    (void)state;
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        /* a good target first: nothing may be sent before all targets are checked */
        na_snmp_target t[2] = {agent_target(&ok), agent_target(&bad[k])};
        na_error err;
        memset(&err, 0, sizeof(err));
        assert_int_equal(na__snmp_collect(t, 2, NULL, never_called, NULL, &err), NA_EINVAL);
        assert_true(err.message[0] != 0);
        print_message("bad credentials %zu: %s\n", k, err.message);
    }
    {
        na_snmp_target t = agent_target(&ok);
        na_error err;
        t.host = NULL;
        memset(&err, 0, sizeof(err));
        assert_int_equal(na__snmp_collect(&t, 1, NULL, never_called, NULL, &err), NA_EINVAL);
        t = agent_target(NULL);
        assert_int_equal(na__snmp_collect(&t, 1, NULL, never_called, NULL, &err), NA_EINVAL);
    }
}

/* ---- limits, stopping, threads ------------------------------------------------------------- */

static void test_max_in_flight(void **state)
{
    na_snmp_credentials cred = {.version = NA_SNMP_V2C, .community = "public"};
    na_snmp_collect_opts opts = {.max_in_flight = 2};
    na_snmp_target t[6];
    results rs;

    (void)state;
    for (int k = 0; k < 6; k++)
        t[k] = agent_target(&cred);
    memset(&rs, 0, sizeof(rs));
    collect(t, 6, &opts, &rs);
    for (int k = 0; k < 6; k++) {
        assert_true(rs.r[k].info.reachable);
        assert_string_equal(rs.r[k].problems, "");
        assert_int_equal(rs.r[k].st->n, rs.r[0].st->n);
    }
    /* never more than two devices between their start and their end at any start time */
    for (int k = 0; k < 6; k++) {
        na_time_ms at = rs.r[k].info.started_at;
        int open = 0;
        for (int j = 0; j < 6; j++)
            open += rs.r[j].info.started_at <= at && at < rs.r[j].info.finished_at;
        assert_true(open <= 2);
    }
    free_results(&rs);
}

static void test_max_varbinds(void **state)
{
    na_snmp_credentials cred = {.version = NA_SNMP_V2C, .community = "public"};
    na_snmp_collect_opts opts = {.max_varbinds = 10};
    na_snmp_target t;
    results rs;

    (void)state;
    t = agent_target(&cred);
    memset(&rs, 0, sizeof(rs));
    collect(&t, 1, &opts, &rs);
    assert_true(rs.r[0].info.reachable);
    assert_int_equal(rs.r[0].info.varbinds, 10);
    assert_int_equal(rs.r[0].st->n, 10);
    assert_has(rs.r[0].problems, "max_varbinds (10) reached", "max_varbinds");
    free_results(&rs);
}

typedef struct stopper {
    volatile int *flag;
    int after_ms;
} stopper;

static void *stop_later(void *arg)
{
    stopper *s = arg;
    struct timespec ts = {s->after_ms / 1000, (long)(s->after_ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
    *s->flag = 1;
    return NULL;
}

static void test_stop_flag(void **state)
{
    na_snmp_credentials silent = {.version = NA_SNMP_V2C, .community = "silent"};
    volatile int stop = 0;
    na_snmp_collect_opts opts = {.max_in_flight = 2, .stop = &stop};
    stopper s = {&stop, 300};
    na_snmp_target t[3];
    results rs;
    pthread_t th;

    (void)state;
    for (int k = 0; k < 3; k++) {
        t[k] = agent_target(&silent);
        t[k].timeout_ms = 20000; /* far beyond the stop: only the flag can end this */
        t[k].retries = 2;
    }
    memset(&rs, 0, sizeof(rs));
    assert_int_equal(pthread_create(&th, NULL, stop_later, &s), 0);
    collect(t, 3, &opts, &rs);
    pthread_join(th, NULL);
    for (int k = 0; k < 3; k++) {
        assert_false(rs.r[k].info.reachable);
        assert_string_equal(rs.r[k].reason, "stopped");
        assert_int_equal(rs.r[k].info.timeouts, 0);
    }
    assert_int_equal(rs.r[2].info.requests, 0); /* still queued when the flag came */
    free_results(&rs);
}

static void test_callback_stops(void **state)
{
    na_snmp_credentials pub = {.version = NA_SNMP_V2C, .community = "public"};
    na_snmp_credentials silent = {.version = NA_SNMP_V2C, .community = "silent"};
    na_snmp_collect_opts opts = {.max_in_flight = 1};
    na_snmp_target t[3] = {agent_target(&pub), agent_target(&silent), agent_target(&silent)};
    results rs;

    (void)state;
    memset(&rs, 0, sizeof(rs));
    rs.stop_after = 1;
    collect(t, 3, &opts, &rs);
    assert_true(rs.r[0].info.reachable);
    assert_string_equal(rs.r[0].reason, "");
    for (int k = 1; k < 3; k++) {
        assert_string_equal(rs.r[k].reason, "stopped");
        assert_int_equal(rs.r[k].info.requests, 0);
    }
    free_results(&rs);
}

typedef struct thread_job {
    const na_snmp_target *t;
    size_t n;
    results rs;
    int rc;
} thread_job;

static void *collect_thread(void *arg)
{
    thread_job *j = arg;
    na_error err;

    memset(&err, 0, sizeof(err));
    j->rc = na__snmp_collect(j->t, j->n, NULL, collect_cb, &j->rs, &err);
    return NULL;
}

static void test_two_threads(void **state)
{
    na_snmp_credentials pub = {.version = NA_SNMP_V2C, .community = "public"};
    na_snmp_credentials sec =
        v3("authpriv", NA_SNMP_AUTHPRIV, "SHA", "authpass123", "AES", "privpass123");
    na_snmp_target a[4], b[4];
    thread_job ja, jb;
    pthread_t ta, tb;

    (void)state;
    for (int k = 0; k < 4; k++) {
        a[k] = agent_target(&pub);
        b[k] = E.sim_ok ? sim_target(&sec) : agent_target(&pub);
    }
    memset(&ja, 0, sizeof(ja));
    memset(&jb, 0, sizeof(jb));
    ja.t = a;
    ja.n = 4;
    jb.t = b;
    jb.n = 4;
    assert_int_equal(pthread_create(&ta, NULL, collect_thread, &ja), 0);
    assert_int_equal(pthread_create(&tb, NULL, collect_thread, &jb), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(ja.rc, NA_OK);
    assert_int_equal(jb.rc, NA_OK);
    for (int k = 0; k < 4; k++) {
        assert_true(ja.rs.r[k].info.reachable);
        assert_true(jb.rs.r[k].info.reachable);
        assert_string_equal(ja.rs.r[k].problems, "");
        assert_string_equal(jb.rs.r[k].problems, "");
    }
    free_results(&ja.rs);
    free_results(&jb.rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_fixture),  cmocka_unit_test(test_shared_recordings),
        cmocka_unit_test(test_unreachable),    cmocka_unit_test(test_bad_agents),
        cmocka_unit_test(test_v3),             cmocka_unit_test(test_bad_credentials),
        cmocka_unit_test(test_max_in_flight),  cmocka_unit_test(test_max_varbinds),
        cmocka_unit_test(test_stop_flag),      cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_two_threads),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
