#!/bin/sh
# accelgit-hook: @HOOK@ (installed by 'accelgit hooks install'; 'accelgit hooks uninstall' removes it)
#
# Template: hooks/hook.sh in the accelgit repository; @HOOK@ and @PYTHON@ are
# filled in at install time.  Do not edit the installed copy: reinstall instead.
hook=@HOOK@
python=@PYTHON@

# 1. The hook that was here before accelgit's (kept as <hook>.accelgit-orig)
#    runs first, with the same arguments; if it fails, so does this hook.
orig="$0.accelgit-orig"
if [ -x "$orig" ]; then
    "$orig" "$@" || exit $?
fi

# 2. Skipped on request (ACCELGIT_SKIP_HOOKS=1), e.g. for a quick commit.
if [ "${ACCELGIT_SKIP_HOOKS:-}" = 1 ]; then
    exit 0
fi

# 3. 'accelgit hook run HOOK ARGS...' of the Python environment that installed
#    this hook (called in that Python, without the console script), else the
#    accelgit on PATH, else one line and git goes on.  (201: accelgit is not
#    importable in that environment any more.)
if [ -x "$python" ]; then
    "$python" -c 'import sys
try:
    from accelgit.cli.main import main
except ImportError:
    sys.exit(201)
sys.exit(main(["hook", "run"] + sys.argv[1:]))' "$hook" "$@"
    status=$?
    if [ "$status" -ne 201 ]; then
        exit "$status"
    fi
fi
if command -v accelgit >/dev/null 2>&1; then
    exec accelgit hook run "$hook" "$@"
fi
echo "accelgit: $hook hook skipped: accelgit is not installed ($python has no accelgit, none on PATH)" >&2
exit 0
