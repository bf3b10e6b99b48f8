#!/usr/bin/env bash
# make bench-proxy: signet's iptables proxier against upstream kube-proxy's
# (k8s.io/kubernetes/pkg/proxy/iptables at the version hack/upstream/go.mod
# pins), on the same Services and EndpointSlices in the same run.
#
# For each number of ClusterIP Services (each with --endpoints ready
# endpoints) both proxiers do a full sync, then a sync after one endpoint
# of one Service changed; each time is the median of --runs runs, each with
# a new proxier. Neither proxier touches the kernel: both write to a
# recorder that keeps the size of the iptables-restore input and parses
# nothing. test/bench/proxy (signet) and hack/upstream/bench-proxy
# (upstream, its own module) do the work; this builds both, checks that
# they build the same inputs, runs them one after the other for each size,
# and prints a table, then one JSON object per line:
#   {"impl": "signet"|"upstream", "services": N, "endpoints_per_service": 10,
#    "full_sync_seconds": x, "one_service_sync_seconds": y, "restore_bytes": N}
# Each program alone prints a table with more columns (CPU time, allocation,
# the one-Service restore input); run it without --json to see them.
# See docs/benchmarks.md.
#
# Usage: hack/bench-proxy.sh [--services 1000,5000,10000] [--endpoints 10]
#          [--runs 3]
set -o errexit -o nounset -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"

services=1000,5000,10000
endpoints=10
runs=3
while [[ $# -gt 0 ]]; do
    case "$1" in
        --services) services="$2"; shift 2 ;;
        --endpoints) endpoints="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        -h|--help) sed -n '2,/^set -o/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
args=(--services "${services}" --endpoints "${endpoints}" --runs "${runs}")

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

# Build first, so that compiling (minutes for upstream, the first time)
# never overlaps a measurement.
echo "building the benchmark programs" >&2
(cd "${ROOT}" && go build -o "${work}/signet" ./test/bench/proxy)
(cd "${ROOT}/hack/upstream" && go build -o "${work}/upstream" ./bench-proxy)

"${work}/signet" "${args[@]}" --inputs-digest >"${work}/signet.digest"
"${work}/upstream" "${args[@]}" --inputs-digest >"${work}/upstream.digest"
if ! diff -u "${work}/signet.digest" "${work}/upstream.digest" >&2; then
    echo "the two programs build different inputs; fix test/bench/proxy/inputs.go or hack/upstream/bench-proxy/inputs.go" >&2
    exit 1
fi

# One size at a time, both implementations back to back, so that the two
# figures of a size are taken close together if the machine is busy.
IFS=, read -r -a sizes <<<"${services}"
for n in "${sizes[@]}"; do
    for impl in signet upstream; do
        echo "running ${impl} with ${n} Services" >&2
        "${work}/${impl}" --services "${n}" --endpoints "${endpoints}" --runs "${runs}" --json >>"${work}/results.json"
    done
done

# The programs write one flat JSON object per line, with the keys in this
# order and no spaces; awk picks the fields out by name.
awk '
function field(line, key,    m) {
    if (!match(line, "\"" key "\":[^,}]*")) { print "no " key " in " line > "/dev/stderr"; exit 1 }
    m = substr(line, RSTART, RLENGTH)
    sub(/^"[^"]*":/, "", m)
    gsub(/"/, "", m)
    return m
}
{
    n++
    impl[n] = field($0, "impl"); svcs[n] = field($0, "services")
    full[n] = field($0, "full_sync_seconds"); one[n] = field($0, "one_service_sync_seconds")
    bytes[n] = field($0, "restore_bytes")
}
END {
    printf "%-9s %9s %12s %19s %11s\n", "impl", "services", "full sync s", "one-service sync s", "restore MB"
    # Sizes in increasing order, signet before upstream within a size.
    for (i = 1; i <= n; i++) order[i] = i
    for (i = 2; i <= n; i++) {
        for (j = i; j > 1; j--) {
            a = order[j - 1]; b = order[j]
            if (svcs[a] + 0 > svcs[b] + 0 || (svcs[a] + 0 == svcs[b] + 0 && impl[a] > impl[b])) {
                order[j - 1] = b; order[j] = a
            } else break
        }
    }
    for (k = 1; k <= n; k++) {
        i = order[k]
        printf "%-9s %9d %12.4f %19.4f %11.2f\n", impl[i], svcs[i], full[i], one[i], bytes[i] / 1e6
    }
}' "${work}/results.json"
echo
cat "${work}/results.json"
