/* cim_signal.h -- stopping a long run cleanly on SIGINT, SIGTERM or SIGHUP.
 *
 * cim_signal_catch() installs handlers that only record the signal; the run
 * polls cim_signal_caught() at its chunk boundaries, keeps what it finished
 * and exits with cim_signal_exit_status() (128 + the signal: 130 for Ctrl-C,
 * 143 for SIGTERM, 129 for SIGHUP). A second signal while the first is being
 * honoured ends the process at once with that status (_exit: nothing is
 * flushed; files written as a crash would leave them, which the results
 * files survive). The handlers stay until the process ends, so a signal
 * that arrives while the run is already ending still exits with its status.
 */
#ifndef CIM_SIGNAL_H
#define CIM_SIGNAL_H

void cim_signal_catch(void);

/* A function the handler calls on the first signal, before it returns:
 * it may only do what a signal handler may (write(2), kill(2)). The writer
 * of a job of several ranks prints its line with it at once, because the
 * launcher that sent the signal kills the job a second later. NULL: none. */
void cim_signal_on_first(void (*fn)(int sig));

/* The first signal caught since cim_signal_catch(), or 0. */
int cim_signal_caught(void);

/* "SIGINT", "SIGTERM", "SIGHUP" or "signal N". */
const char *cim_signal_name(int sig);

/* 128 + sig. */
int cim_signal_exit_status(int sig);

#endif /* CIM_SIGNAL_H */
