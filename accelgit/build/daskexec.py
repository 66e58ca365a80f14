"""The Dask executor's client: a launcher (launcher.py's interface) that runs
each job as a task on a Dask distributed cluster (daskjob.py is what the
worker runs).  The build itself (scripts, identities, reuse, the job's temp
folder, the manifest and the rename) stays in this process, exactly as with
the local executor; the workers must see the workdir at the same path (a
shared filesystem), which is checked before the first job of each workdir.

``distributed`` is imported only here and only when the Dask executor is
chosen (``pip install 'accelgit[dask]'``).
"""
from __future__ import annotations

import logging
import os
import signal
import threading
import uuid
import warnings
from concurrent.futures import CancelledError

from accelgit.build import daskjob
from accelgit.build.launcher import WorkerLost
from accelgit.core.errors import EXIT_FAILED, AccelgitError, UsageError
from accelgit.store.layout import ATTEMPT_FILE, PROBE_PREFIX, TMP


class ExecutorError(AccelgitError):
    """The cluster cannot run the build: unreachable, no worker, no shared workdir."""
    exit_code = EXIT_FAILED


def _distributed():
    try:
        import distributed
    except ImportError:
        raise UsageError("--executor dask needs the 'distributed' package: pip install 'accelgit[dask]'") from None
    return distributed


class DaskLauncher:
    """Runs job folders as Dask tasks; thread-safe; ``run`` blocks (the build's
    threads, at most -j, are the jobs in flight)."""

    kind = "dask"

    def __init__(self, address: str, timeout: float):
        if not address:
            raise UsageError("--executor dask needs the scheduler's address: --scheduler tcp://HOST:8786, "
                             "$ACCELGIT_DASK_SCHEDULER or [executor] address")
        distributed = _distributed()
        # its client's logs and warnings (reconnecting, tracebacks) are not accelgit's output: what goes wrong is said in one line
        for name in ["distributed", *logging.root.manager.loggerDict]:
            if name.startswith("distributed"):
                logging.getLogger(name).setLevel(logging.CRITICAL)
        warnings.filterwarnings("ignore", module=r"distributed(\.|$)")     # (versions of the workers, say)
        _check_address(address)
        self.address = address
        self._stopping = False
        try:
            self.client = distributed.Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as e:
            raise ExecutorError(f"cannot reach the Dask scheduler at {address}: {_line(e)}") from None
        try:
            self.client.wait_for_workers(1, timeout=timeout)
        except TimeoutError:
            self.close()
            raise ExecutorError(f"the Dask scheduler at {address} has no worker (waited {timeout:g} s)") from None
        self._lock = threading.Lock()
        self._futures: dict[str, object] = {}        # job folder -> its task's future
        self._placed: dict[str, dict] = {}
        self._trusted: list[str] | None = None      # the public keys this build trusts
        self._probing: dict[str, threading.Lock] = {}
        self._probed: set[str] = set()
        self.started = True

    def slots(self) -> int:
        """The threads of the cluster's workers: the default -j."""
        return sum(w.get("nthreads", 1) for w in self._workers().values()) or 1

    def _workers(self) -> dict:
        """``{address: info}`` of every connected worker (some versions of Dask
        list only the first few unless asked for all)."""
        try:
            info = self.client.scheduler_info(n_workers=-1)
        except TypeError:                   # a Dask older than that argument lists all
            info = self.client.scheduler_info()
        return info.get("workers", {})

    def start(self) -> None:
        pass

    def check_workdir(self, path: str) -> None:
        """Stop (ExecutorError) unless every worker sees the workdir at ``path``."""
        folder = os.path.join(path, TMP)
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as e:
            raise ExecutorError(f"cannot write the workdir {path}: {e.strerror or e}") from None
        self._probe(folder)

    def run(self, jobdir: str, tick=None, run: dict | None = None, resources: dict | None = None) -> int:
        """Run the job in ``jobdir`` as a Dask task; its exit code.  Raises WorkerLost
        when the worker running it died, ExecutorError when the cluster failed."""
        self._probe(os.path.dirname(jobdir))
        res = self._resources(resources)
        if self._trusted is None:
            from accelgit.store import keys
            self._trusted = keys.trusted_texts()
        run = dict(run or {}, trusted_keys=self._trusted)     # a job loads inputs signed by keys trusted here
        name = os.path.basename(jobdir).split(".", 1)[0]
        try:
            fut = self.client.submit(daskjob.run_job, jobdir, run, key=f"accelgit-{name}-{uuid.uuid4().hex[:8]}",
                                     pure=False, resources=res)
        except Exception as e:  # noqa: BLE001 - the client is closed or the scheduler gone
            raise ExecutorError(f"could not submit {name} to the Dask scheduler at {self.address}: {_line(e)}") from None
        with self._lock:
            self._futures[jobdir] = fut
        try:
            out = self._wait(fut, tick)
        except CancelledError:
            if self._stopping:              # Ctrl-C (kill_all)
                return -signal.SIGKILL
            raise ExecutorError(f"the Dask scheduler at {self.address} cancelled the job (did it stop?)") from None
        finally:
            with self._lock:
                self._futures.pop(jobdir, None)
        if "lost" in out:
            was = out["lost"]
            raise WorkerLost(f"its Dask worker {was.get('worker', '?')} on {was.get('host', '?')} died while "
                             f"running it")
        self._placed[jobdir] = {"executor": out["worker"], "host": out["host"]}
        os.remove(os.path.join(jobdir, ATTEMPT_FILE))        # not part of the job
        return out["code"]

    def _wait(self, fut, tick) -> dict:
        distributed = _distributed()
        while True:
            try:
                return fut.result(timeout=0.2 if tick else None)
            except (TimeoutError, distributed.TimeoutError):
                if fut.done():
                    continue
                tick()
            except CancelledError:
                raise
            except distributed.KilledWorker as e:
                raise WorkerLost(f"Dask gave it up after its workers died: {_line(e)}") from None
            except Exception as e:  # noqa: BLE001 - the task could not run (accelgit missing on the worker?)
                raise ExecutorError(f"the Dask task failed: {type(e).__name__}: {_line(e)}") from None

    def _resources(self, resources: dict | None) -> dict | None:
        """The method's ``resources`` as Dask's numbers ("8GB" is bytes); a
        resource no connected worker has enough of is an error, not a wait."""
        if not resources:
            return None
        from dask.utils import parse_bytes
        try:
            res = {k: parse_bytes(v) if isinstance(v, str) else v for k, v in resources.items()}
        except ValueError as e:
            raise ExecutorError(f"resources {resources!r}: {_line(e)}") from None
        workers = self._workers().values()
        if not any(all(w.get("resources", {}).get(k, 0) >= v for k, v in res.items()) for w in workers):
            have = sorted({k for w in workers for k in w.get("resources", {})})
            raise ExecutorError(f"no Dask worker at {self.address} has the resources {resources!r} (workers "
                                f"offer: {', '.join(have) or 'none'}; start them with dask worker --resources)")
        return res

    def _probe(self, folder: str) -> None:
        """Once per folder: every worker writes a file in it and this process
        reads it back, else ExecutorError naming the folder."""
        with self._lock:
            lock = self._probing.setdefault(folder, threading.Lock())
        with lock:
            if folder in self._probed:
                return
            token = f"{PROBE_PREFIX}{uuid.uuid4().hex[:12]}"
            got = self.client.run(daskjob.probe, folder, token, on_error="return")
            try:
                me = _owner_here(folder, token)
                for worker, path in got.items():
                    if isinstance(path, BaseException):
                        raise ExecutorError(f"the Dask worker {worker} cannot write the workdir {folder} "
                                            f"({_line(path)}): it needs a filesystem shared with this machine, "
                                            f"at the same path")
                    try:
                        with open(path, encoding="utf-8") as f:
                            seen = f.read()
                    except OSError:
                        seen = None
                    if seen != worker:
                        raise ExecutorError(f"the Dask worker {worker} does not see the workdir {folder} that "
                                            f"this machine sees: it needs a filesystem shared with this machine, "
                                            f"at the same path")
                    owner = os.stat(path).st_uid
                    if owner != me:
                        raise ExecutorError(f"the Dask worker {worker} writes the workdir {folder} as another user "
                                            f"(uid {owner}, this build: uid {me}): it could not write the job "
                                            f"folders, which only their builder may open; run the workers as "
                                            f"this user")
            finally:
                for path in got.values():
                    if isinstance(path, str):
                        try:
                            os.remove(path)
                        except OSError:
                            pass
            self._probed.add(folder)

    def placement(self, jobdir: str) -> dict | None:
        return self._placed.pop(jobdir, None)

    def kill_all(self) -> None:
        """Ctrl-C: cancel every task and kill the job processes they started."""
        self._stopping = True
        with self._lock:
            futs = dict(self._futures)
        if not futs:
            return
        try:
            self.client.cancel(list(futs.values()), force=True)
            self.client.run(daskjob.kill_jobs, list(futs), on_error="ignore")
        except Exception:  # noqa: BLE001 - the scheduler is gone too: nothing left to cancel
            pass

    def close(self) -> None:
        try:
            self.client.close(timeout=5)
        except Exception:  # noqa: BLE001 - closing a dead connection
            pass


def _owner_here(folder: str, token: str) -> int:
    """The owner a file this process writes in ``folder`` gets (the filesystem
    may map users: the workers' files are compared with this one)."""
    path = os.path.join(folder, f"{token}-client")
    with open(path, "w", encoding="utf-8"):
        pass
    try:
        return os.stat(path).st_uid
    finally:
        os.remove(path)


def _check_address(address: str) -> None:
    """A malformed address is a usage error, said before any connection is tried."""
    from distributed.comm import registry
    from distributed.comm.addressing import parse_address, parse_host_port
    try:
        scheme, loc = parse_address(address, strict=False)
        registry.get_backend(scheme)
        if scheme in ("tcp", "tls", "ws", "wss"):
            parse_host_port(loc)
    except ValueError as e:
        raise UsageError(f"bad Dask scheduler address {address!r} ({_line(e)}): expected tcp://HOST:PORT") from None


def _line(e: BaseException) -> str:
    return (str(e) or type(e).__name__).strip().splitlines()[0]
