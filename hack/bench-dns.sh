#!/usr/bin/env bash
# make bench-dns: node-cache against CoreDNS, each as the per-node DNS cache
# in front of the same authoritative server, measured with dnsperf.
#
# For each implementation (node-cache, CoreDNS built from its Go module by
# hack/build-coredns.sh with NodeLocal DNSCache's Corefile) and each workload
# (hit: 100 names, cached; miss: every name new) this runs
#   1. a saturation run: dnsperf with --outstanding queries in flight for
#      --duration seconds; its queries per second is "qps", and the server's
#      CPU time over it per 100,000 answered queries is "cpu_seconds_per_100k";
#   2. a latency run: dnsperf at a fixed rate (--hit-rate or --miss-rate
#      queries per second, below both servers' saturation) for --duration
#      seconds; its average latency is "avg_latency_ms".
# The server under test runs alone on CPU 1 with GOMAXPROCS=1; dnsperf and the
# authoritative server (GOMAXPROCS=1) share CPU 0. It prints a table, then one
# JSON object per line:
#   {"impl": "node-cache"|"coredns", "workload": "hit"|"miss", "qps": x,
#    "avg_latency_ms": y, "cpu_seconds_per_100k": z}
# Query files, the Corefile and every log stay in _output/bench-dns/.
# See docs/benchmarks.md.
#
# Usage: hack/bench-dns.sh [--duration SECONDS] [--runs N] [--hit-rate QPS]
#          [--miss-rate QPS] [--clients N] [--outstanding N]
#          [--impls "coredns node-cache"] [--workloads "hit miss"] [--nice N]
# --nice runs the servers, the authority and dnsperf at that niceness (for
# example -10 on a machine where other work cannot be stopped); by default
# they run at the caller's.
# Needs root (servers bind port 53 on 127.0.53.0/24; apt-get installs dnsperf
# when it is missing) and at least two CPUs.
set -o errexit -o nounset -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${ROOT}"

duration=10      # seconds of each dnsperf run
hit_rate=10000   # queries per second of the hit latency run
miss_rate=5000   # queries per second of the miss latency run
runs=1           # rounds; with more, each figure is the median of the rounds
clients=8        # dnsperf sockets (source ports)
outstanding=150  # dnsperf queries in flight during saturation runs
impls="coredns node-cache"
workloads="hit miss"
nice=0           # niceness of the servers, the authority and dnsperf
while [[ $# -gt 0 ]]; do
    case "$1" in
        --duration) duration="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --hit-rate) hit_rate="$2"; shift 2 ;;
        --miss-rate) miss_rate="$2"; shift 2 ;;
        --clients) clients="$2"; shift 2 ;;
        --outstanding) outstanding="$2"; shift 2 ;;
        --impls) impls="$2"; shift 2 ;;
        --nice) nice="$2"; shift 2 ;;
        --workloads) workloads="$2"; shift 2 ;;
        -h|--help) sed -n '2,/^set -o/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

# Addresses, all on loopback. resolv.conf names no port, so the authority
# answers on port 53 for both of its roles (cluster DNS and resolv.conf
# nameserver); the two caches get addresses of their own.
AUTH_IP=127.0.53.1
NODECACHE_IP=127.0.53.10
COREDNS_IP=127.0.53.11
DNS_PORT=53
HEALTH_PORT=18080
METRICS_PORT=19253
SERVICES=2000000       # svc-<i> names the authority answers with an A record
MISS_SAT_NAMES=1500000 # names of the miss saturation file: i in [0, 1.5M)
MISS_RATE_NAMES=500000 # names of the miss latency file: i in [1.5M, 2M)
SERVER_CPU=1
CLIENT_CPU=0

WORK="${ROOT}/_output/bench-dns"
mkdir -p "${WORK}"
LOGS="${WORK}/logs"
rm -rf "${LOGS}"
mkdir -p "${LOGS}"

log() { echo "bench-dns: $*" >&2; }

if [[ "${EUID}" -ne 0 ]]; then
    log "must run as root (the servers bind port 53; dnsperf may need installing)"
    exit 1
fi
if [[ "$(nproc --all)" -lt 2 ]]; then
    log "needs at least two CPUs"
    exit 1
fi
if ! command -v dnsperf >/dev/null; then
    log "installing dnsperf"
    apt-get install -y dnsperf >"${LOGS}/apt-get.log" 2>&1 ||
        { apt-get update >>"${LOGS}/apt-get.log" 2>&1 && apt-get install -y dnsperf >>"${LOGS}/apt-get.log" 2>&1; }
fi
command -v taskset >/dev/null || { log "taskset (util-linux) is missing"; exit 1; }

log "building node-cache, the authority and CoreDNS"
mkdir -p _output/bin
go build -o _output/bin/node-cache ./cmd/node-cache
go build -o _output/bin/dns-authority ./test/bench/dns/authority
COREDNS="$(hack/build-coredns.sh | tail -n 1)"
NODECACHE="${ROOT}/_output/bin/node-cache"
AUTHORITY="${ROOT}/_output/bin/dns-authority"

# Query files, in dnsperf's format ("name type" per line), written afresh by
# every run (about a second) and the same for both implementations.
#   hit.txt        100 names with an A record, cycled by dnsperf; cached by
#                  the warm-up pass before the measured runs.
#   miss-sat.txt   1,500,000 distinct names for the saturation run and
#   miss-rate.txt  500,000 others for the latency run: 4 of 5 have an A
#                  record (svc-<i>), 1 of 5 are NXDOMAIN (nx-<i>). No name
#                  is asked twice, so every query is a cache miss; a run
#                  that went past the end of its file would start over with
#                  names evicted long before (each cache holds at most
#                  19,968 answers).
#   warm-miss.txt  10,000 NXDOMAIN names in neither miss file, for the
#                  miss workload's warm-up.
gen_names() { # first count: prints "name A" lines for i in [first, first+count)
    awk -v first="$1" -v count="$2" 'BEGIN {
        for (i = first; i < first + count; i++)
            printf "%s-%d.ns.svc.cluster.local A\n", (i % 5 == 4 ? "nx" : "svc"), i
    }'
}
awk 'BEGIN { for (i = 0; i < 100; i++) printf "svc-%d.ns.svc.cluster.local A\n", i }' >"${WORK}/hit.txt"
gen_names 0 "${MISS_SAT_NAMES}" >"${WORK}/miss-sat.txt"
gen_names "${MISS_SAT_NAMES}" "${MISS_RATE_NAMES}" >"${WORK}/miss-rate.txt"
awk 'BEGIN { for (i = 0; i < 10000; i++) printf "warmup-%d.ns.svc.cluster.local A\n", i }' >"${WORK}/warm-miss.txt"

echo "nameserver ${AUTH_IP}" >"${WORK}/resolv.conf"

# NodeLocal DNSCache's Corefile (cluster domain and reverse zones to the
# cluster DNS over TCP, the rest to the resolv.conf nameservers), with
# addresses and ports of this benchmark.
cluster_block() { # zone
    cat <<EOF
$1:${DNS_PORT} {
    errors
    cache {
        success 9984 30
        denial 9984 5
    }
    reload
    loop
    bind ${COREDNS_IP}
    forward . ${AUTH_IP}:${DNS_PORT} {
        force_tcp
    }
    prometheus ${COREDNS_IP}:${METRICS_PORT}
EOF
    [[ "$1" != cluster.local ]] || echo "    health ${COREDNS_IP}:${HEALTH_PORT}"
    echo "}"
}
{
    cluster_block cluster.local
    cluster_block in-addr.arpa
    cluster_block ip6.arpa
    cat <<EOF
.:${DNS_PORT} {
    errors
    cache 30
    reload
    loop
    bind ${COREDNS_IP}
    forward . ${WORK}/resolv.conf
    prometheus ${COREDNS_IP}:${METRICS_PORT}
}
EOF
} >"${WORK}/Corefile"

# Processes started here, stopped on exit.
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "${pid}" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "${pid}" 2>/dev/null || true
    done
}
trap cleanup EXIT

stop() { # pid
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    local kept=() pid
    for pid in "${pids[@]}"; do
        [[ "${pid}" == "$1" ]] || kept+=("${pid}")
    done
    pids=("${kept[@]}")
}

# dnsperf pinned to the client CPU, one thread. Its report goes to stdout.
run_dnsperf() {
    nice -n "${nice}" taskset -c "${CLIENT_CPU}" dnsperf -T 1 -t 2 "$@" 2>&1
}

# field NAME: the first number after "NAME:" in a dnsperf report on stdin.
field() {
    awk -v name="$1:" 'i = index($0, name) { split(substr($0, i + length(name)), f, " "); print f[1] + 0; exit }'
}

wait_dns() { # pid ip name: waits until the process pid answers on ip
    local pid="$1" i
    shift
    for ((i = 0; i < 100; i++)); do
        if ! kill -0 "${pid}" 2>/dev/null; then
            log "the server for $1:${DNS_PORT} exited (see ${LOGS})"
            return 1
        fi
        if echo "$2 A" | run_dnsperf -s "$1" -p "${DNS_PORT}" -n 1 -t 1 | grep -q 'Queries completed: *1 '; then
            return 0
        fi
        sleep 0.1
    done
    log "no answer from $1:${DNS_PORT}"
    return 1
}

# ensure_free ip: fails when something already serves DNS on ip, so that a
# stray server is never measured in place of the one started here.
ensure_free() {
    if [[ -n "$(ss -Hlnu "src $1:${DNS_PORT}")$(ss -Hlnt "src $1:${DNS_PORT}")" ]]; then
        log "$1:${DNS_PORT} is in use:"
        ss -Hlnup "src $1:${DNS_PORT}" >&2
        return 1
    fi
}

# wait_ns pid: how long the threads of a process have been runnable but
# waiting for a CPU, in nanoseconds (schedstat). Over a run, divided by its
# length, it shows how much other processes took from the server's CPU.
wait_ns() {
    cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ w += $2 } END { printf "%.0f\n", w }'
}

# core_ticks: busy and total clock ticks of CPU 0, then of CPU 1 (/proc/stat;
# busy is all but idle and iowait).
core_ticks() {
    awk '$1 == "cpu0" || $1 == "cpu1" {
        t = 0; for (i = 2; i <= NF; i++) t += $i
        printf "%.0f %.0f ", t - $5 - $6, t
    } END { print "" }' /proc/stat
}

# cpu_ticks pid: user plus system time of a process, in clock ticks.
cpu_ticks() {
    # Fields after the command name (which may hold spaces): utime is the
    # 12th and stime the 13th.
    sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}
CLK_TCK="$(getconf CLK_TCK)"

# upstream_queries: queries answered by the authority so far.
upstream_queries() {
    local before i
    before="$(grep -c answered "${LOGS}/authority.log" || true)"
    kill -USR1 "${auth_pid}"
    for ((i = 0; i < 100; i++)); do
        if [[ "$(grep -c answered "${LOGS}/authority.log" || true)" -gt "${before}" ]]; then
            grep answered "${LOGS}/authority.log" | tail -n 1 |
                awk '{ split($3, u, "="); split($4, t, "="); print u[2] + t[2] }'
            return
        fi
        sleep 0.01
    done
    log "the authority did not report its query count"
    exit 1
}

log "starting the authority on ${AUTH_IP}:${DNS_PORT} (CPU ${CLIENT_CPU})"
ensure_free "${AUTH_IP}"
GOMAXPROCS=1 nice -n "${nice}" taskset -c "${CLIENT_CPU}" "${AUTHORITY}" --listen "${AUTH_IP}:${DNS_PORT}" \
    --services "${SERVICES}" --ttl 30s >"${LOGS}/authority.log" 2>&1 &
auth_pid=$!
pids+=("${auth_pid}")
wait_dns "${auth_pid}" "${AUTH_IP}" svc-0.ns.svc.cluster.local

start_server() { # impl; sets server_pid and server_ip
    case "$1" in
        node-cache)
            server_ip="${NODECACHE_IP}"
            ensure_free "${server_ip}"
            GOMAXPROCS=1 nice -n "${nice}" taskset -c "${SERVER_CPU}" "${NODECACHE}" \
                --localip "${server_ip}" --port "${DNS_PORT}" \
                --setup-interface=false --setup-iptables=false \
                --cluster-dns "${AUTH_IP}:${DNS_PORT}" \
                --upstream-resolv-conf "${WORK}/resolv.conf" \
                --cache-size 19968 --success-ttl 30s --denial-ttl 5s \
                --health-addr "${server_ip}:${HEALTH_PORT}" \
                --metrics-addr "${server_ip}:${METRICS_PORT}" \
                >"${LOGS}/node-cache.log" 2>&1 &
            ;;
        coredns)
            server_ip="${COREDNS_IP}"
            ensure_free "${server_ip}"
            GOMAXPROCS=1 nice -n "${nice}" taskset -c "${SERVER_CPU}" "${COREDNS}" -conf "${WORK}/Corefile" \
                >"${LOGS}/coredns.log" 2>&1 &
            ;;
        *) log "unknown implementation $1"; exit 2 ;;
    esac
    server_pid=$!
    pids+=("${server_pid}")
    wait_dns "${server_pid}" "${server_ip}" svc-0.ns.svc.cluster.local
}

# measure appends one line per impl, workload and round to rounds.txt, with
# the columns of the table:
#   impl, workload;
#   qps              queries per second of the saturation run;
#   avg_latency_ms   average latency of the fixed-rate run;
#   cpu_s_per_100k   server CPU seconds (user+system) per 100,000 answers
#                    in the saturation run;
#   rate_qps         the rate of the fixed-rate run;
#   sat_latency_ms   average latency of the saturation run;
#   sat_lost         queries without an answer in the saturation run;
#   server_cpu       server CPU seconds per second of the saturation run;
#   server_wait      seconds per second the server's threads were runnable
#                    but waiting for a CPU (other processes took it);
#   client_busy      share of CPU 0 (dnsperf, the authority, anything else)
#                    busy in the saturation run: near 1, the client side
#                    may be what limits qps;
#   server_core_busy share of CPU 1 busy: above server_cpu, other
#                    processes ran there;
#   upstream_queries queries the authority answered during the saturation
#                    run (about qps x duration for the miss workload, ~0
#                    for hits).

measure() { # impl workload
    local impl="$1" workload="$2" sat_file rate_file warm_file rate
    case "${workload}" in
        hit) sat_file="${WORK}/hit.txt" rate_file="${WORK}/hit.txt" warm_file="${WORK}/hit.txt" rate="${hit_rate}" ;;
        miss) sat_file="${WORK}/miss-sat.txt" rate_file="${WORK}/miss-rate.txt" warm_file="${WORK}/warm-miss.txt" rate="${miss_rate}" ;;
        *) log "unknown workload ${workload}"; exit 2 ;;
    esac
    local out="${LOGS}/${impl}-${workload}-${round}"

    # Warm-up, not measured: one pass over the file caches the hit names;
    # two seconds of load open the upstream connections and grow the heap.
    run_dnsperf -s "${server_ip}" -p "${DNS_PORT}" -d "${warm_file}" -n 1 -q 10 >"${out}-warmup.txt"
    run_dnsperf -s "${server_ip}" -p "${DNS_PORT}" -d "${warm_file}" -l 2 \
        -c "${clients}" -q "${outstanding}" >>"${out}-warmup.txt"

    log "${impl} ${workload}: saturation, ${duration}s"
    local up0 cpu0 wait0 stat0 cpu1 wait1 stat1 up1
    up0="$(upstream_queries)"
    cpu0="$(cpu_ticks "${server_pid}")"
    wait0="$(wait_ns "${server_pid}")"
    stat0="$(core_ticks)"
    run_dnsperf -s "${server_ip}" -p "${DNS_PORT}" -d "${sat_file}" -l "${duration}" \
        -c "${clients}" -q "${outstanding}" >"${out}-saturation.txt"
    stat1="$(core_ticks)"
    wait1="$(wait_ns "${server_pid}")"
    cpu1="$(cpu_ticks "${server_pid}")"
    up1="$(upstream_queries)"

    log "${impl} ${workload}: ${rate} queries/s, ${duration}s"
    run_dnsperf -s "${server_ip}" -p "${DNS_PORT}" -d "${rate_file}" -l "${duration}" \
        -c "${clients}" -Q "${rate}" >"${out}-rate.txt"

    local qps completed lost runtime sat_lat lat
    qps="$(field 'Queries per second' <"${out}-saturation.txt")"
    completed="$(field 'Queries completed' <"${out}-saturation.txt")"
    lost="$(field 'Queries lost' <"${out}-saturation.txt")"
    runtime="$(field 'Run time (s)' <"${out}-saturation.txt")"
    sat_lat="$(field 'Average Latency (s)' <"${out}-saturation.txt")"
    lat="$(field 'Average Latency (s)' <"${out}-rate.txt")"
    if grep -q SERVFAIL "${out}-saturation.txt" "${out}-rate.txt"; then
        log "warning: ${impl} answered SERVFAIL in the ${workload} runs (see ${out}-*.txt)"
    fi
    # The columns of rounds.txt, in the order of the table.
    awk -v impl="${impl}" -v w="${workload}" -v qps="${qps}" -v c="${completed}" \
        -v lost="${lost}" -v rt="${runtime}" -v sl="${sat_lat}" -v t0="${cpu0}" -v t1="${cpu1}" \
        -v hz="${CLK_TCK}" -v w0="${wait0}" -v w1="${wait1}" -v up=$((up1 - up0)) \
        -v rate="${rate}" -v lat="${lat}" -v s0="${stat0}" -v s1="${stat1}" \
        -v ccpu="${CLIENT_CPU}" -v scpu="${SERVER_CPU}" 'BEGIN {
            cpu = (t1 - t0) / hz
            split(s0, a, " "); split(s1, b, " ")
            # core_ticks prints busy and total ticks of CPU 0, then of CPU 1.
            cbusy = (b[2 * ccpu + 2] - a[2 * ccpu + 2] > 0) ? (b[2 * ccpu + 1] - a[2 * ccpu + 1]) / (b[2 * ccpu + 2] - a[2 * ccpu + 2]) : 0
            sbusy = (b[2 * scpu + 2] - a[2 * scpu + 2] > 0) ? (b[2 * scpu + 1] - a[2 * scpu + 1]) / (b[2 * scpu + 2] - a[2 * scpu + 2]) : 0
            printf "%s %s %.0f %.3f %.3f %.0f %.3f %.0f %.2f %.2f %.2f %.2f %.0f\n",
                impl, w, qps, lat * 1000, (c > 0 ? cpu / c * 100000 : 0), rate,
                sl * 1000, lost, (rt > 0 ? cpu / rt : 0), (rt > 0 ? (w1 - w0) / 1e9 / rt : 0),
                cbusy, sbusy, up
        }' >>"${LOGS}/rounds.txt"
}

log "load average before the runs: $(cut -d ' ' -f 1-3 /proc/loadavg)"
for ((round = 1; round <= runs; round++)); do
    for impl in ${impls}; do
        log "round ${round}/${runs}: starting ${impl} on CPU ${SERVER_CPU} (GOMAXPROCS=1)"
        start_server "${impl}"
        for workload in ${workloads}; do
            measure "${impl}" "${workload}"
        done
        stop "${server_pid}"
    done
done
log "load average after the runs: $(cut -d ' ' -f 1-3 /proc/loadavg)"

# The median of each column over the rounds (the lower middle one for an
# even number of rounds), in the order the implementations and workloads
# were given.
summary="$(for impl in ${impls}; do
    for workload in ${workloads}; do
        awk -v impl="${impl}" -v w="${workload}" '$1 == impl && $2 == w' "${LOGS}/rounds.txt" |
            awk '{ n++; for (i = 3; i <= NF; i++) v[i, n] = $i; nf = NF; impl = $1; w = $2 }
                END {
                    if (n == 0) exit
                    line = impl " " w
                    for (i = 3; i <= nf; i++) {
                        for (j = 1; j <= n; j++) col[j] = v[i, j] + 0
                        for (j = 2; j <= n; j++) for (k = j; k > 1 && col[k - 1] > col[k]; k--) {
                            t = col[k]; col[k] = col[k - 1]; col[k - 1] = t
                        }
                        line = line " " col[int((n + 1) / 2)]
                    }
                    print line
                }'
    done
done)"

echo
{
    echo "impl workload qps avg_latency_ms cpu_s_per_100k rate_qps sat_latency_ms sat_lost server_cpu server_wait client_busy server_core_busy upstream_queries"
    echo "${summary}"
} | awk '{ printf "%-10s %-8s %8s %14s %14s %8s %14s %8s %10s %11s %11s %16s %16s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 }'
echo
echo "${summary}" | awk '{
    printf "{\"impl\": \"%s\", \"workload\": \"%s\", \"qps\": %s, \"avg_latency_ms\": %s, \"cpu_seconds_per_100k\": %s}\n",
        $1, $2, $3, $4, $5
}'
