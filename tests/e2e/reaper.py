"""Servers and temp directories that die with the test process, however it ends (Python
standard library only).

A test process that is killed (ctest's timeout sends SIGKILL, and kills only the processes it
finds below the test; a CI job or a person may kill it too) runs no atexit handler and no
tearDown: PostgreSQL, started by pg_ctl in a session of its own, would keep running with its
data directory, and so would children the kill did not reach. So the first registration starts
a watchdog: a daemon process outside the test's process tree, in a session of its own, that
reads registrations from a pipe whose write end only the test process holds. When the test
process is gone (however it ended) the pipe reaches end of file, and the watchdog kills what is
still registered and deletes the registered directories. Whatever a test stops itself it
unregisters, so an orderly run leaves the watchdog nothing to do.

    reaper.watch_process(pid)           # SIGKILLed if still running when the test dies
    reaper.forget_process(pid)
    reaper.watch_postgres(data_dir)     # the server on data_dir: immediate shutdown, then KILL
    reaper.forget_postgres(data_dir)
    reaper.watch_path(path)             # deleted (recursively)
    reaper.forget_path(path)

A registration never fails a test: if the watchdog cannot be started or has gone, the calls do
nothing.
"""

import os
import shutil
import signal
import subprocess
import sys
import threading
import time

_lock = threading.Lock()
_channel = None   # write end of the pipe to the watchdog
_owner = None     # the pid that opened it (a forked child opens its own)


def _start_watchdog():
    read_end, write_end = os.pipe()  # neither is inherited by other children (O_CLOEXEC)
    try:
        starter = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--watch", str(os.getpid())],
            stdin=read_end, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, close_fds=True)
        starter.wait(timeout=60)  # it forks the watchdog and exits at once
    except Exception:  # noqa: BLE001 - no watchdog: registrations do nothing
        os.close(write_end)
        return None
    finally:
        os.close(read_end)
    return write_end


def _send(line):
    global _channel, _owner
    with _lock:
        if _owner != os.getpid():
            _channel, _owner = _start_watchdog(), os.getpid()
        if _channel is None:
            return
        try:
            os.write(_channel, (line + "\n").encode())
        except OSError:
            _channel = None  # the watchdog is gone: nothing more to do


def _check(text):
    if "\n" in text:
        raise ValueError("a newline in %r" % text)
    return text


def watch_process(pid):
    _send("+proc %d %s" % (pid, _start_time(pid)))


def forget_process(pid):
    _send("-proc %d" % pid)


def watch_postgres(data_dir):
    _send("+pg " + _check(os.path.abspath(data_dir)))


def forget_postgres(data_dir):
    _send("-pg " + _check(os.path.abspath(data_dir)))


def watch_path(path):
    _send("+path " + _check(os.path.abspath(path)))


def forget_path(path):
    _send("-path " + _check(os.path.abspath(path)))


# -- the watchdog ------------------------------------------------------------------------------

def _stat(pid):
    """(state, process group, start time) of `pid`, or None when there is no such process."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[2]), fields[19]


def _start_time(pid):
    st = _stat(pid)
    return st[2] if st else "?"


def _alive(pid, start=None):
    st = _stat(pid)
    return st is not None and st[0] not in ("Z", "X") and (start is None or st[2] == start)


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def _postmasters(data_dir):
    """Pids of the servers running on data_dir: the one postmaster.pid names, and any whose
    command line says `-D data_dir` (a server that had not written postmaster.pid yet)."""
    found = set()
    try:
        with open(os.path.join(data_dir, "postmaster.pid")) as f:
            found.add(int(f.readline()))
    except (OSError, ValueError):
        pass
    for name in os.listdir("/proc"):
        if name.isdigit():
            args = _cmdline(int(name))
            if b"-D" in args and os.fsencode(data_dir) in args:
                found.add(int(name))
    # Only processes that are that server (postmaster.pid may be stale, its pid reused).
    return {pid for pid in found if os.fsencode(data_dir) in _cmdline(pid) and _alive(pid)}


def _wait_gone(check, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not check():
            return True
        time.sleep(0.05)
    return not check()


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except OSError:
        pass


def _clean(procs, postgres, paths):
    for pid, start in procs.items():
        if _alive(pid, start):
            _signal(pid, signal.SIGKILL)
    for data_dir in postgres:
        servers = {pid: _stat(pid) for pid in _postmasters(data_dir)}
        servers = {pid: st for pid, st in servers.items() if st is not None}
        for pid in servers:
            _signal(pid, signal.SIGQUIT)  # what `pg_ctl stop -m immediate` sends
        if not _wait_gone(lambda: any(_alive(p, s[2]) for p, s in servers.items()), 10):
            for pid, st in servers.items():
                if _alive(pid, st[2]):
                    _signal(pid, signal.SIGKILL)
        # The server's children leave when it does; any left over are in its process group
        # (pg_ctl starts the server as a session leader).
        for pid, st in servers.items():
            if st[1] == pid:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
    _wait_gone(lambda: any(_alive(p, s) for p, s in procs.items()), 10)
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)


def _watch():
    procs, postgres, paths = {}, [], []
    for raw in sys.stdin.buffer:
        op, _, arg = raw.decode(errors="replace").rstrip("\n").partition(" ")
        if op == "+proc":
            pid, start = arg.split()
            procs[int(pid)] = start
        elif op == "-proc":
            procs.pop(int(arg), None)
        elif op == "+pg":
            postgres.append(arg)
        elif op == "-pg" and arg in postgres:
            postgres.remove(arg)
        elif op == "+path":
            paths.append(arg)
        elif op == "-path" and arg in paths:
            paths.remove(arg)
    # End of file: the test process has gone (or exited).
    _clean(procs, postgres, paths)


def _main():
    # Runs as `reaper.py --watch <test pid>` with the pipe's read end as stdin: fork, so the
    # watchdog is nobody's child in the test's process tree, and let the starter exit.
    if os.fork() > 0:
        os._exit(0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        os.chdir("/")
    except OSError:
        pass
    _watch()


if __name__ == "__main__" and sys.argv[1:2] == ["--watch"]:
    _main()
