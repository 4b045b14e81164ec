/* cim_signal.c -- see cim_signal.h. The handler touches only a
 * sig_atomic_t and, on a second signal, calls _exit(), both
 * async-signal-safe. */
#include "cim_signal.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const int caught_signals[] = {SIGINT, SIGTERM, SIGHUP};
static volatile sig_atomic_t first_signal;
static void (*volatile first_hook)(int sig);

static void on_signal(int sig)
{
    if (first_signal != 0)
        _exit(128 + sig);
    first_signal = sig;
    if (first_hook)
        first_hook(sig);
}

void cim_signal_on_first(void (*fn)(int sig))
{
    first_hook = fn;
}

static void set_all(void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof caught_signals / sizeof *caught_signals; ++i)
        sigaction(caught_signals[i], &sa, NULL);
}

void cim_signal_catch(void)
{
    first_signal = 0;
    set_all(on_signal);
}

int cim_signal_caught(void)
{
    return first_signal;
}

const char *cim_signal_name(int sig)
{
    static char other[32];
    switch (sig) {
    case SIGINT:
        return "SIGINT";
    case SIGTERM:
        return "SIGTERM";
    case SIGHUP:
        return "SIGHUP";
    default:
        snprintf(other, sizeof other, "signal %d", sig);
        return other;
    }
}

int cim_signal_exit_status(int sig)
{
    return 128 + sig;
}
