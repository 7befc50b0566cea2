#!/usr/bin/env bash
# Run test files RUNS times in a row beside a CPU hog and print "K/RUNS passed": a flake finder for CI.
#
#   scripts/stress-tests.sh [-n RUNS] [-j HOGS] TEST_PATH... [-- PYTEST_ARGS...]
#
#   -n RUNS   how many times to run the tests (default 20)
#   -j HOGS   CPU-spinning Python processes started beside the tests (default: one per core, so the
#             tests get about half the CPU they would have on an idle machine)
#   PYTHON    interpreter with pytest (default .venv/bin/python, else python3)
#
# Every run's output is kept in a temporary folder (printed at the end); the exit status is 0 only when
# every run passed. Example: scripts/stress-tests.sh -n 20 tests/test_batch.py -- -m "not slow"
set -u

runs=20
hogs=$(nproc 2>/dev/null || echo 2)
python=${PYTHON:-}
if [[ -z $python ]]; then
    if [[ -x .venv/bin/python ]]; then python=.venv/bin/python; else python=python3; fi
fi

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
while getopts "n:j:h" opt; do
    case $opt in
        n) runs=$OPTARG ;;
        j) hogs=$OPTARG ;;
        h) usage 0 ;;
        *) usage ;;
    esac
done
shift $((OPTIND - 1))
tests=()
extra=()
while (($#)); do
    if [[ $1 == -- ]]; then
        shift
        extra=("$@")
        break
    fi
    tests+=("$1")
    shift
done
((${#tests[@]})) || usage
[[ $runs =~ ^[1-9][0-9]*$ && $hogs =~ ^[0-9]+$ ]] || usage

logs=$(mktemp -d "${TMPDIR:-/tmp}/stress-tests.XXXXXX")
hog_pids=()
stop_hogs() {
    local pid
    for pid in "${hog_pids[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${hog_pids[@]}"; do wait "$pid" 2>/dev/null; done
    hog_pids=()
}
trap stop_hogs EXIT
trap 'stop_hogs; exit 130' INT TERM

for ((i = 0; i < hogs; i++)); do
    "$python" -c 'while True: pass' &
    hog_pids+=($!)
done
echo "stress: ${tests[*]} x $runs beside $hogs CPU hog(s) on $(nproc 2>/dev/null || echo '?') cores;" \
    "load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"

passed=0
for ((run = 1; run <= runs; run++)); do
    log="$logs/run-$run.log"
    if "$python" -m pytest -q -p no:cacheprovider "${tests[@]}" "${extra[@]}" >"$log" 2>&1; then
        passed=$((passed + 1))
        echo "run $run/$runs: passed ($(grep -v "^[[:space:]]*$" "$log" | tail -n 1))"
    else
        echo "run $run/$runs: FAILED ($(grep -v "^[[:space:]]*$" "$log" | tail -n 1)); log: $log"
    fi
done
stop_hogs
echo "load at the end $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null); logs in $logs"
echo "$passed/$runs passed"
((passed == runs))
