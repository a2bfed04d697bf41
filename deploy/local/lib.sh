# shellcheck shell=bash
# Helpers shared by deploy/local/*.sh. Source it; do not run it.
#
# Sets REPO_ROOT (from this file's location, never the cwd) and LOCAL_DIR
# (the git-ignored .local/ directory where all data and logs live).

LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$LIB_DIR/../.." && pwd)"
LOCAL_DIR="$REPO_ROOT/.local"
export REPO_ROOT LOCAL_DIR

log() { printf '[%s] %s\n' "${LOG_PREFIX:-local}" "$*"; }
err() { printf '[%s] ERROR: %s\n' "${LOG_PREFIX:-local}" "$*" >&2; }
die() { err "$*"; exit 1; }

# port_open PORT: true if something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# pid_alive PID: true if the process exists (and is not a zombie).
pid_alive() {
    local pid="$1" state
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)"
    [[ "$state" != "Z" ]]
}

# pid_cmdline_has PID PATTERN: true if the process's command line contains PATTERN
# (guards against acting on a recycled pid).
pid_cmdline_has() {
    local pid="$1" pattern="$2"
    [[ -r "/proc/$pid/cmdline" ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$pattern"
}

# read_pid FILE: prints the pid stored in FILE, or nothing.
read_pid() {
    local f="$1"
    [[ -f "$f" ]] || return 0
    tr -dc '0-9' <"$f"
}

# stop_pid NAME PIDFILE PATTERN [GRACE_SECONDS]: SIGTERM, wait, then SIGKILL.
stop_pid() {
    local name="$1" pidfile="$2" pattern="$3" grace="${4:-30}" pid i
    pid="$(read_pid "$pidfile")"
    if [[ -z "$pid" ]] || ! pid_alive "$pid" || ! pid_cmdline_has "$pid" "$pattern"; then
        rm -f "$pidfile"
        log "$name is not running"
        return 0
    fi
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 5; i++)); do
        pid_alive "$pid" || break
        sleep 0.2
    done
    if pid_alive "$pid"; then
        err "$name did not exit within ${grace}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            pid_alive "$pid" || break
            sleep 0.2
        done
    fi
    if pid_alive "$pid"; then
        die "could not stop $name (pid $pid)"
    fi
    rm -f "$pidfile"
    log "$name stopped"
}

# as_root CMD...: run CMD as root (directly, or through passwordless sudo).
as_root() {
    if [[ "$(id -u)" -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        die "need root to run: $*"
    fi
}

# apt_install PKG...: non-interactive apt-get install, running apt-get update
# first only if the packages cannot be found, and never letting the package
# scripts start system services (a temporary policy-rc.d that denies them).
apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install $* by hand"
    local policy=/usr/sbin/policy-rc.d added_policy=0 rc=0
    if [[ ! -e "$policy" ]]; then
        as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
        added_policy=1
    fi
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"; then
        log "apt-get install failed; running apt-get update and retrying"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || true
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" || rc=$?
    fi
    if [[ "$added_policy" -eq 1 ]]; then
        as_root rm -f "$policy"
    fi
    return "$rc"
}
