/*
 * daemon/core/sd.h — systemd integration implemented from the documented
 * protocols, without libsystemd: socket activation ($LISTEN_FDS/$LISTEN_PID,
 * fds from 3) and readiness notification (a datagram to $NOTIFY_SOCKET, a
 * path or an abstract "@name").  Our own names (daa_sd_*), so that nothing
 * here is mistaken for, or clashes with, libsystemd's sd_* functions: this is
 * the small subset daad needs (no fd names, no vsock, no credentials), and
 * linking libsystemd for it would load it and its compression libraries into
 * the daemon.
 */
#ifndef DAA_SD_H
#define DAA_SD_H

/* Number of fds passed by socket activation (0 when none), and unsets the
 * variables so children do not see them.  The fds start at DAA_SD_LISTEN_FDS_START
 * and are made close-on-exec. */
#define DAA_SD_LISTEN_FDS_START 3
int daa_sd_listen_fds(void);
/* Send a state string ("READY=1", "STOPPING=1", "STATUS=...") to the service
 * manager.  0 when sent or when not under systemd, -1 (errno) on failure. */
int daa_sd_notify(const char *state);

#endif
