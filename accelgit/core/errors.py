"""Error types and the exit codes they map to (SPEC §7).

Every error carries one line that says what went wrong and where; the CLI
prints that line and exits with the error's code.  Tracebacks are shown only
with ACCELGIT_DEBUG=1.
"""
from __future__ import annotations

EXIT_OK = 0

EXIT_FAILED = 1

EXIT_USAGE = 2

EXIT_INTERNAL = 3

EXIT_INTERRUPTED = 130


class AccelgitError(Exception):
    """A problem the user can act on.  ``str(err)`` is the one line shown."""

    exit_code = EXIT_USAGE


class UsageError(AccelgitError):
    """Bad command line, bad config, bad method or build script (exit 2)."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    pass


class GitError(UsageError):
    """Not a git repository, unknown revision, git failed."""


class MethodError(UsageError):
    """A method file that cannot be used: missing, ambiguous, malformed."""


class ScriptError(UsageError):
    """A build script that cannot run or calls urd.build wrongly."""


class BuildFailed(AccelgitError):
    """One or more jobs failed to build (exit 1)."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, failures: list | None = None):
        super().__init__(message)
        self.failures = failures or []


class JobNotFound(UsageError):
    pass


class IntegrityError(AccelgitError):
    """Stored job content does not match its manifest or recorded hashes."""

    exit_code = EXIT_FAILED


class DiskFull(AccelgitError):
    """No space left (or over quota) where accelgit writes (exit 1)."""

    exit_code = EXIT_FAILED


def disk_full(e: BaseException) -> DiskFull | None:
    """A ``DiskFull`` for an OSError that says the disk (or the quota) is
    full, naming the file; else None."""
    import errno
    if not isinstance(e, OSError) or e.errno not in (errno.ENOSPC, errno.EDQUOT):
        return None
    what = "no space left on the device" if e.errno == errno.ENOSPC else "disk quota exceeded"
    return DiskFull(f"{what} while writing {e.filename}" if e.filename else what)


class PlanStopped(Exception):
    """Raised inside a build script when a plan cannot go on (result of a job
    that would be built was read).  Not an error: the plan is incomplete."""

    def __init__(self, job, where: str):
        super().__init__(f"plan stopped at {where}: it reads the result of {job.method} ({job.id[:12]}), which would be built")
        self.job = job
        self.where = where


#: what accelgit says of the Accelerator's datasets, wherever code uses them (issue 16)
DATASETS = "datasets are not supported (accelerator.dataset)"
