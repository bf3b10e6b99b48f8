#!/usr/bin/env bash
# make bench-ingress: signet-ingress against nginx as the proxy in front of
# the same nginx backend, measured with wrk, and the time from kubectl apply
# of a changed Ingress to its first request served. The measurement itself
# is test/bench/ingress (its doc comment says what runs where); this script
# installs what it needs and builds the upstream binaries it uses.
#
# Usage: hack/bench-ingress.sh [--duration 10s] [--runs 3] [--connections 50]
#          [--changes 10] [--impls nginx,signet-ingress]
# Needs root (the benchmark runs in a network namespace of its own, and
# apt-get installs wrk and nginx-light when they are missing)
# and at least two CPUs. Output: a table, then JSON lines
#   {"impl": "signet-ingress"|"nginx", "rps": x, "p50_ms": y, "p99_ms": z}
#   {"impl": "signet-ingress", "config_to_traffic_ms": w}
# Configs and logs stay in _output/bench-ingress/. See docs/benchmarks.md.
set -o errexit -o nounset -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${ROOT}"

log() { echo "bench-ingress: $*" >&2; }

if [[ "$(nproc --all)" -lt 2 ]]; then
    log "needs at least two CPUs"
    exit 1
fi
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ "${EUID}" -ne 0 ]]; then
        log "missing ${missing[*]}: install them (apt-get install ${missing[*]}) or run as root"
        exit 1
    fi
    log "installing ${missing[*]}"
    mkdir -p _output
    apt-get install -y "${missing[@]}" >_output/bench-ingress-apt.log 2>&1 ||
        { apt-get update >>_output/bench-ingress-apt.log 2>&1 &&
            apt-get install -y "${missing[@]}" >>_output/bench-ingress-apt.log 2>&1; }
    # The package starts a default server on port 80; the benchmark runs its
    # own nginx processes with private configs.
    if command -v systemctl >/dev/null && systemctl is-active --quiet nginx 2>/dev/null; then
        systemctl stop nginx || true
    fi
fi
export PATH="${PATH}:/usr/sbin"
command -v taskset >/dev/null || { log "taskset (util-linux) is missing"; exit 1; }

hack/build-upstream.sh kube-apiserver kubectl >&2
exec go run ./test/bench/ingress "$@"
