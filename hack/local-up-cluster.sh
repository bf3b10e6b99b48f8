#!/usr/bin/env bash
# signet's local cluster: a whole cluster on this machine, built from
# source, without a container engine. Nodes and pods are network
# namespaces joined by real veth links, with real iptables and ip6tables
# rules and real IPv4 and IPv6 traffic. See docs/local-cluster.md.
#
# Usage: hack/local-up-cluster.sh up [--nodes N] [--rebuild]
#        hack/local-up-cluster.sh status
#        hack/local-up-cluster.sh down [--keep-logs]
#
#   up      builds what is missing (upstream components with
#           hack/build-upstream.sh, signet's into _output/bin; --rebuild
#           builds signet's again), then starts whatever does not run yet and
#           waits until every node is Ready and the kube-dns Service answers
#           through node-cache. Running it again on a running cluster starts
#           nothing and says so; on a cluster with dead processes it starts
#           those again (node agents adopt their pods).
#   status  what runs, per component and per node; exits 1 if anything is
#           down.
#   down    stops every process, removes the nodes' pods (nodeagent
#           --cleanup), the network namespaces and their links (and with
#           them every iptables and ip6tables rule, which all live inside
#           them) and _output/local-up (its logs/ too, unless --keep-logs).
#
# Needs root. Output: _output/local-up/kubeconfig (admin), logs/ (one file
# per process), pids/, pki/, nodes/<node>/ (the node agents' state and
# container logs), etcd/.
set -o errexit -o nounset -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
OUT="${ROOT}/_output/local-up"
BIN_DIR="${ROOT}/_output/bin"
LOG_DIR="${OUT}/logs"
PID_DIR="${OUT}/pids"
PKI="${OUT}/pki"
NODES_DIR="${OUT}/nodes"
STATE_FILE="${OUT}/cluster.env"
KUBECONFIG_FILE="${OUT}/kubeconfig"
# Processes inside the cluster's namespaces reach kube-apiserver at
# 127.0.0.1:6443 of their own loopback (a forwarder per namespace).
NS_KUBECONFIG="${OUT}/netns.kubeconfig"

export PATH="/usr/local/go/bin:${PATH}:/usr/sbin:/sbin"

# Control plane, on the machine's loopback. Fixed ports below the
# ephemeral range, so that tests picking free ports do not take them.
ETCD_PORT=22379
ETCD_PEER_PORT=22380
APISERVER_PORT=26443
SIGNET_APISERVER_PORT=28443
KCM_PORT=20257
SCHEDULER_PORT=20259
SIGNET_CM_PORT=20360
NS_APISERVER_PORT=6443

# The network.
NET_NS=signet-net                 # holds the bridge joining the nodes, and cluster-dns
BRIDGE=signet0
NET_V4=10.100.0.1                 # the bridge's own addresses (cluster-dns, kube-apiserver for pods)
NET_V6=fd00:100::1
SERVICE_CIDRS=10.96.0.0/16,fd00:10:96::/112
CLUSTER_CIDRS=10.244.0.0/16,fd00:244::/32
KUBERNETES_SVC_V4=10.96.0.1
DNS_SVC_V4=10.96.0.10
DNS_SVC_V6=fd00:10:96::a
NODECACHE_V4=169.254.20.10
NODECACHE_V6=fd00::10
CLUSTER_DOMAIN=cluster.local
REGION=region-1
MANAGED_BY=local-up.signet.dev    # managed-by label of the slices this script writes
MAX_NODES=200

node_v4() { echo "10.100.0.$((10 + $1))"; }
node_v6() { echo "fd00:100::$((10 + $1))"; }
pod_v4() { echo "10.244.$1.0/24"; }
pod_v6() { echo "fd00:244:$1::/64"; }
# zone-a, zone-a, zone-b, then zone-a and zone-b in turn.
node_zone() {
    if (($1 <= 2)); then echo zone-a; elif (($1 % 2)); then echo zone-b; else echo zone-a; fi
}

SIGNET_COMMANDS=(signet-apiserver signet-controller-manager kube-proxy node-cache cluster-dns nodeagent signet-testd nsforward)
declare -A SIGNET_PKG=(
    [signet-apiserver]=./cmd/signet-apiserver
    [signet-controller-manager]=./cmd/signet-controller-manager
    [kube-proxy]=./cmd/kube-proxy
    [node-cache]=./cmd/node-cache
    [cluster-dns]=./cmd/cluster-dns
    [nodeagent]=./test/e2e/nodeagent/cmd/nodeagent
    [signet-testd]=./test/e2e/testd
    [nsforward]=./test/e2e/nsforward
)
UPSTREAM_COMMANDS=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl)
CONTROL_PLANE=(etcd kube-apiserver signet-apiserver kube-controller-manager kube-scheduler signet-controller-manager)
NODE_PROCS=(forward nodeagent kube-proxy node-cache)

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*"; }
die() {
    echo "local-up: $*" >&2
    exit 1
}

usage() {
    sed -n '2,/^set -o/p' "${BASH_SOURCE[0]}" | sed -e '/^set -o/d' -e 's/^# \{0,1\}//'
    exit "${1:-2}"
}

# ---------------------------------------------------------------------------
# Processes. Each runs in a session of its own (a Ctrl-C of "up" does not
# reach it), with its output appended to logs/<name>.log; pids/<name>.pid
# holds its pid and binary, so that a pid reused by another program is
# never taken for it.

pidfile() { echo "${PID_DIR}/$1.pid"; }

# proc_pid NAME prints the pid of NAME if it runs.
proc_pid() {
    local f pid bin exe state
    f="$(pidfile "$1")"
    [[ -f ${f} ]] || return 1
    read -r pid bin <"${f}" || true
    [[ -n ${pid:-} && -d /proc/${pid} ]] || return 1
    exe="$(readlink "/proc/${pid}/exe" 2>/dev/null)" || return 1
    [[ ${exe% (deleted)} == "${bin}" ]] || return 1
    state="$(sed -n 's/^.*) \(.\).*/\1/p' "/proc/${pid}/stat" 2>/dev/null)" || return 1
    [[ ${state} != Z && ${state} != X ]] || return 1
    echo "${pid}"
}

STARTED=()

# start NAME NETNS BINARY ARG... starts BINARY unless NAME runs already;
# NETNS "-" is the machine's namespace, anything else a namespace under
# /run/netns entered with nsenter (network only: the mount namespace stays
# the machine's, which the node agent needs).
start() {
    local name=$1 netns=$2 bin=$3 pid logf pf i
    shift 3
    if pid="$(proc_pid "${name}")"; then
        log "${name}: already running (pid ${pid})"
        return 0
    fi
    logf="${LOG_DIR}/${name}.log"
    pf="$(pidfile "${name}")"
    rm -f "${pf}"
    local cmd=("${bin}" "$@")
    if [[ ${netns} != - ]]; then
        cmd=(nsenter "--net=/run/netns/${netns}" -- "${cmd[@]}")
    fi
    printf '==> %s: starting %s\n' "$(date -Is)" "${cmd[*]}" >>"${logf}"
    # bash writes its own pid, then becomes the program (nsenter execs it
    # too), so the pid is the program's whichever way setsid runs it.
    # shellcheck disable=SC2016 # expanded by that bash
    setsid bash -c 'echo "$$ $1" >"$0"; shift; exec "$@"' "${pf}" "${bin}" "${cmd[@]}" \
        >>"${logf}" 2>&1 </dev/null &
    for ((i = 0; i < 50; i++)); do
        [[ -s ${pf} ]] && break
        sleep 0.1
    done
    sleep 0.2
    if ! pid="$(proc_pid "${name}")"; then
        tail -n 30 "${logf}" >&2
        die "${name} exited at once; see ${logf}"
    fi
    log "${name}: started (pid ${pid}, log ${logf#"${ROOT}"/})"
    STARTED+=("${name}")
}

# stop NAME [GRACE] sends SIGTERM, and SIGKILL after GRACE seconds.
stop() {
    local name=$1 grace=${2:-20} pid i
    if ! pid="$(proc_pid "${name}")"; then
        rm -f "$(pidfile "${name}")"
        return 0
    fi
    kill -TERM "${pid}" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
        proc_pid "${name}" >/dev/null || break
        sleep 0.1
    done
    if proc_pid "${name}" >/dev/null; then
        log "${name}: still running ${grace}s after SIGTERM, killing it"
        kill -KILL "${pid}" 2>/dev/null || true
        sleep 0.2
    fi
    log "${name}: stopped (pid ${pid})"
    rm -f "$(pidfile "${name}")"
}

# wait_for TIMEOUT WHAT PROC CMD... polls CMD until it succeeds; fails
# when PROC (unless "-") exits or TIMEOUT seconds pass.
wait_for() {
    local timeout=$1 what=$2 proc=$3 deadline
    shift 3
    deadline=$((SECONDS + timeout))
    until "$@" >/dev/null 2>&1; do
        if [[ ${proc} != - ]] && ! proc_pid "${proc}" >/dev/null; then
            tail -n 30 "${LOG_DIR}/${proc}.log" >&2 || true
            die "${proc} exited while waiting for ${what}; see ${LOG_DIR}/${proc}.log"
        fi
        if ((SECONDS >= deadline)); then
            "$@" || true
            die "timed out after ${timeout}s waiting for ${what}"
        fi
        sleep 0.5
    done
}

kc() { "${KUBECTL}" --kubeconfig "${KUBECONFIG_FILE}" "$@"; }

# ---------------------------------------------------------------------------
# Prerequisites and binaries.

ensure_prerequisites() {
    [[ $(id -u) -eq 0 ]] || die "needs root (network namespaces, links, iptables)"
    local missing=() tool
    for tool in ip iptables ip6tables iptables-save iptables-restore ip6tables-save ip6tables-restore conntrack nsenter setsid openssl curl; do
        command -v "${tool}" >/dev/null 2>&1 || missing+=("${tool}")
    done
    if [[ ${#missing[@]} -gt 0 ]]; then
        command -v apt-get >/dev/null 2>&1 || die "missing tools: ${missing[*]} (install iproute2 iptables conntrack util-linux openssl curl)"
        log "installing Debian packages for: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq iproute2 iptables conntrack util-linux openssl curl >/dev/null
    fi
    command -v go >/dev/null 2>&1 || die "Go is not installed: signet needs the Go toolchain that go.mod names"
}

build() {
    local out cmd tmp pkgs=() names=()
    mkdir -p "${LOG_DIR}" "${BIN_DIR}"
    if ! out="$("${ROOT}/hack/build-upstream.sh" "${UPSTREAM_COMMANDS[@]}" 2>>"${LOG_DIR}/build.log")"; then
        tail -n 30 "${LOG_DIR}/build.log" >&2
        die "hack/build-upstream.sh failed; see ${LOG_DIR}/build.log"
    fi
    UPSTREAM_BIN="$(tail -n 1 <<<"${out}")"
    for cmd in "${SIGNET_COMMANDS[@]}"; do
        if [[ -n ${REBUILD} || ! -x ${BIN_DIR}/${cmd} ]]; then
            pkgs+=("${SIGNET_PKG[${cmd}]}")
            names+=("${cmd}")
        fi
    done
    [[ ${#pkgs[@]} -gt 0 ]] || return 0
    # One go build for all of them: packages compile once, in parallel.
    log "building ${names[*]} into _output/bin (a cold build takes minutes)"
    tmp="$(mktemp -d "${BIN_DIR}/.build.XXXXXX")"
    if ! (cd "${ROOT}" && go build -o "${tmp}/" "${pkgs[@]}"); then
        rm -rf "${tmp}"
        die "go build failed"
    fi
    for cmd in "${names[@]}"; do
        # go build names a binary after its package's directory.
        mv -f "${tmp}/$(basename "${SIGNET_PKG[${cmd}]}")" "${BIN_DIR}/${cmd}"
    done
    rm -rf "${tmp}"
}

# upstream_bin finds the upstream binaries without building (status, down).
upstream_bin() {
    local d
    d="$(find "${ROOT}/_output/upstream" -mindepth 2 -maxdepth 2 -path '*/v*/bin' 2>/dev/null | sort -V | tail -n 1)"
    UPSTREAM_BIN="${d}"
    KUBECTL="${d}/kubectl"
}

# ---------------------------------------------------------------------------
# Certificates and kubeconfigs (openssl, ECDSA P-256), made once.

new_ca() {
    local name=$1 cn=$2
    [[ -f ${PKI}/${name}.crt ]] && return 0
    openssl ecparam -name prime256v1 -genkey -noout -out "${PKI}/${name}.key" 2>/dev/null
    openssl req -x509 -new -key "${PKI}/${name}.key" -subj "/CN=${cn}" -days 3650 -sha256 \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
        -out "${PKI}/${name}.crt" 2>/dev/null
}

# new_cert CA NAME SUBJECT server|client [SAN...]
new_cert() {
    local ca=$1 name=$2 subject=$3 kind=$4 ext
    shift 4
    [[ -f ${PKI}/${name}.crt ]] && return 0
    ext="${PKI}/${name}.ext"
    {
        echo "basicConstraints=critical,CA:FALSE"
        echo "keyUsage=critical,digitalSignature,keyEncipherment"
        if [[ ${kind} == server ]]; then
            echo "extendedKeyUsage=serverAuth"
            local IFS=,
            echo "subjectAltName=$*"
        else
            echo "extendedKeyUsage=clientAuth"
        fi
    } >"${ext}"
    openssl ecparam -name prime256v1 -genkey -noout -out "${PKI}/${name}.key" 2>/dev/null
    openssl req -new -key "${PKI}/${name}.key" -subj "${subject}" -out "${PKI}/${name}.csr" 2>/dev/null
    openssl x509 -req -in "${PKI}/${name}.csr" -CA "${PKI}/${ca}.crt" -CAkey "${PKI}/${ca}.key" \
        -set_serial "0x$(openssl rand -hex 16)" -days 3650 -sha256 -extfile "${ext}" \
        -out "${PKI}/${name}.crt" 2>/dev/null
    rm -f "${PKI}/${name}.csr" "${ext}"
}

# write_kubeconfig FILE SERVER CERT-NAME
write_kubeconfig() {
    local file=$1 server=$2 cert=$3
    [[ -f ${file} ]] && return 0
    local tmp="${file}.tmp"
    rm -f "${tmp}"
    "${KUBECTL}" --kubeconfig "${tmp}" config set-cluster local-up --server "${server}" \
        --certificate-authority "${PKI}/ca.crt" --embed-certs=true >/dev/null
    "${KUBECTL}" --kubeconfig "${tmp}" config set-credentials "${cert}" \
        --client-certificate "${PKI}/${cert}.crt" --client-key "${PKI}/${cert}.key" --embed-certs=true >/dev/null
    "${KUBECTL}" --kubeconfig "${tmp}" config set-context local-up --cluster local-up --user "${cert}" --namespace default >/dev/null
    "${KUBECTL}" --kubeconfig "${tmp}" config use-context local-up >/dev/null
    chmod 600 "${tmp}"
    mv "${tmp}" "${file}"
}

ensure_pki() {
    mkdir -p "${PKI}"
    chmod 700 "${PKI}"
    new_ca ca signet-local-up-ca
    new_ca front-proxy-ca signet-local-up-front-proxy-ca
    new_cert ca kube-apiserver /CN=kube-apiserver server \
        DNS:localhost DNS:kubernetes DNS:kubernetes.default DNS:kubernetes.default.svc \
        "DNS:kubernetes.default.svc.${CLUSTER_DOMAIN}" IP:127.0.0.1 "IP:${KUBERNETES_SVC_V4}" "IP:${NET_V4}"
    new_cert ca signet-apiserver /CN=signet-apiserver server \
        DNS:localhost DNS:signet-apiserver.signet-system.svc IP:127.0.0.1
    new_cert ca admin "/O=system:masters/CN=signet-local-up-admin" client
    new_cert ca kube-controller-manager /CN=system:kube-controller-manager client
    new_cert ca kube-scheduler /CN=system:kube-scheduler client
    new_cert front-proxy-ca front-proxy-client /CN=front-proxy-client client
    if [[ ! -f ${PKI}/service-account.key ]]; then
        openssl ecparam -name prime256v1 -genkey -noout -out "${PKI}/service-account.key" 2>/dev/null
    fi
    local server="https://127.0.0.1:${APISERVER_PORT}"
    write_kubeconfig "${KUBECONFIG_FILE}" "${server}" admin
    write_kubeconfig "${OUT}/kube-controller-manager.kubeconfig" "${server}" kube-controller-manager
    write_kubeconfig "${OUT}/kube-scheduler.kubeconfig" "${server}" kube-scheduler
    write_kubeconfig "${NS_KUBECONFIG}" "https://127.0.0.1:${NS_APISERVER_PORT}" admin
}

# ---------------------------------------------------------------------------
# The control plane.

start_control_plane() {
    local b="${UPSTREAM_BIN}"
    mkdir -p "${OUT}/etcd"
    chmod 700 "${OUT}/etcd"
    start etcd - "${b}/etcd" \
        --name=local-up \
        --data-dir="${OUT}/etcd" \
        --listen-client-urls="http://127.0.0.1:${ETCD_PORT}" \
        --advertise-client-urls="http://127.0.0.1:${ETCD_PORT}" \
        --listen-peer-urls="http://127.0.0.1:${ETCD_PEER_PORT}" \
        --initial-advertise-peer-urls="http://127.0.0.1:${ETCD_PEER_PORT}" \
        --initial-cluster="local-up=http://127.0.0.1:${ETCD_PEER_PORT}" \
        --unsafe-no-fsync \
        --log-level=warn
    wait_for 60 "etcd to serve" etcd curl -fsS "http://127.0.0.1:${ETCD_PORT}/health"

    start kube-apiserver - "${b}/kube-apiserver" \
        --bind-address=127.0.0.1 \
        --secure-port="${APISERVER_PORT}" \
        --etcd-servers="http://127.0.0.1:${ETCD_PORT}" \
        --etcd-prefix=/kubernetes \
        --tls-cert-file="${PKI}/kube-apiserver.crt" \
        --tls-private-key-file="${PKI}/kube-apiserver.key" \
        --client-ca-file="${PKI}/ca.crt" \
        --authorization-mode=RBAC \
        --allow-privileged=true \
        --service-account-issuer=https://kubernetes.default.svc \
        --service-account-key-file="${PKI}/service-account.key" \
        --service-account-signing-key-file="${PKI}/service-account.key" \
        --service-cluster-ip-range="${SERVICE_CIDRS}" \
        --requestheader-client-ca-file="${PKI}/front-proxy-ca.crt" \
        --requestheader-allowed-names=front-proxy-client \
        --requestheader-username-headers=X-Remote-User \
        --requestheader-group-headers=X-Remote-Group \
        --requestheader-extra-headers-prefix=X-Remote-Extra- \
        --proxy-client-cert-file="${PKI}/front-proxy-client.crt" \
        --proxy-client-key-file="${PKI}/front-proxy-client.key" \
        --v=1
    wait_for 120 "kube-apiserver to be ready" kube-apiserver kc get --raw /readyz

    # signet-apiserver, aggregated, storing in the same etcd under its own
    # prefix (/registry/signet.dev).
    start signet-apiserver - "${BIN_DIR}/signet-apiserver" \
        --bind-address=127.0.0.1 \
        --secure-port="${SIGNET_APISERVER_PORT}" \
        --tls-cert-file="${PKI}/signet-apiserver.crt" \
        --tls-private-key-file="${PKI}/signet-apiserver.key" \
        --etcd-servers="http://127.0.0.1:${ETCD_PORT}" \
        --kubeconfig="${KUBECONFIG_FILE}" \
        --authentication-kubeconfig="${KUBECONFIG_FILE}" \
        --authorization-kubeconfig="${KUBECONFIG_FILE}" \
        --v=1
    wait_for 120 "signet-apiserver to be ready" signet-apiserver \
        kc --server="https://127.0.0.1:${SIGNET_APISERVER_PORT}" get --raw /readyz
    register_signet

    start kube-controller-manager - "${b}/kube-controller-manager" \
        --kubeconfig="${OUT}/kube-controller-manager.kubeconfig" \
        --authentication-kubeconfig="${OUT}/kube-controller-manager.kubeconfig" \
        --authorization-kubeconfig="${OUT}/kube-controller-manager.kubeconfig" \
        --bind-address=127.0.0.1 \
        --secure-port="${KCM_PORT}" \
        --leader-elect=false \
        --controllers='*,-endpoints-controller,-endpointslice-controller,-endpointslice-mirroring-controller' \
        --allocate-node-cidrs=false \
        --use-service-account-credentials=true \
        --root-ca-file="${PKI}/ca.crt" \
        --cluster-signing-cert-file="${PKI}/ca.crt" \
        --cluster-signing-key-file="${PKI}/ca.key" \
        --cluster-name=signet-local-up \
        --v=1
    start kube-scheduler - "${b}/kube-scheduler" \
        --kubeconfig="${OUT}/kube-scheduler.kubeconfig" \
        --authentication-kubeconfig="${OUT}/kube-scheduler.kubeconfig" \
        --authorization-kubeconfig="${OUT}/kube-scheduler.kubeconfig" \
        --bind-address=127.0.0.1 \
        --secure-port="${SCHEDULER_PORT}" \
        --leader-elect=false \
        --v=1
    start signet-controller-manager - "${BIN_DIR}/signet-controller-manager" \
        --kubeconfig="${KUBECONFIG_FILE}" \
        --leader-elect=false \
        --bind-address="127.0.0.1:${SIGNET_CM_PORT}" \
        --v=1
}

# register_signet makes kube-apiserver serve signet's groups: the
# APIServices of deploy/apiservices.yaml with this cluster's CA and port,
# naming an ExternalName Service of localhost (DESIGN.md, "Aggregation
# routing"), and the topology keys admission policy of deploy/.
register_signet() {
    local ca
    ca="$(base64 -w0 <"${PKI}/ca.crt")"
    {
        cat <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: signet-system
---
apiVersion: v1
kind: Service
metadata:
  name: signet-apiserver
  namespace: signet-system
spec:
  type: ExternalName
  externalName: localhost
---
EOF
        sed -e "s|Q0FfQlVORExFX1BMQUNFSE9MREVS|${ca}|" -e "s|port: 443$|port: ${SIGNET_APISERVER_PORT}|" \
            "${ROOT}/deploy/apiservices.yaml"
    } >"${OUT}/signet-registration.yaml"
    kc apply -f "${OUT}/signet-registration.yaml" >/dev/null
    kc apply -f "${ROOT}/deploy/topology-keys-policy.yaml" >/dev/null
    wait_for 120 "signet's APIServices to be Available" signet-apiserver apiservices_available
    wait_for 60 "signet's groups to be served" signet-apiserver \
        kc get ingressclasses.networking.signet.dev,endpointslices.discovery.signet.dev -A
}

apiservices_available() {
    local out
    out="$(kc get apiservices -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Available")].status}{"\n"}{end}')" || return 1
    [[ $(grep -c 'signet\.dev=True$' <<<"${out}") -eq 4 ]]
}

# ---------------------------------------------------------------------------
# The network: a bridge in its own namespace, and one namespace per node
# joined to it by a veth pair; routes to every other node's pod CIDRs.

in_ns() {
    local ns=$1
    shift
    nsenter "--net=/run/netns/${ns}" -- "$@"
}

ensure_netns() {
    local ns=$1
    if [[ ! -e /run/netns/${ns} ]]; then
        ip netns add "${ns}"
        CHANGED=1
    fi
    ip -n "${ns}" link set lo up
}

sysctl_in() {
    local ns=$1 key=$2 value=$3 path
    path="/proc/sys/${key//.//}"
    in_ns "${ns}" sh -c "[ ! -e '${path}' ] || echo ${value} > '${path}'"
}

ensure_network() {
    local i j
    ensure_netns "${NET_NS}"
    if ! ip -n "${NET_NS}" link show "${BRIDGE}" >/dev/null 2>&1; then
        ip -n "${NET_NS}" link add "${BRIDGE}" type bridge
    fi
    ip -n "${NET_NS}" addr replace "${NET_V4}/24" dev "${BRIDGE}"
    ip -n "${NET_NS}" -6 addr replace "${NET_V6}/64" dev "${BRIDGE}" nodad
    ip -n "${NET_NS}" link set "${BRIDGE}" up
    for ((i = 1; i <= NUM_NODES; i++)); do
        local node="node-${i}"
        ensure_netns "${node}"
        if ! ip -n "${node}" link show eth0 >/dev/null 2>&1; then
            ip -n "${NET_NS}" link del "${node}" 2>/dev/null || true
            ip -n "${NET_NS}" link add "${node}" type veth peer name eth0 netns "${node}"
        fi
        ip -n "${NET_NS}" link set "${node}" master "${BRIDGE}" up
        ip -n "${node}" addr replace "$(node_v4 "${i}")/24" dev eth0
        ip -n "${node}" -6 addr replace "$(node_v6 "${i}")/64" dev eth0 nodad
        ip -n "${node}" link set eth0 up
        sysctl_in "${node}" net.ipv4.ip_forward 1
        sysctl_in "${node}" net.ipv6.conf.all.forwarding 1
        # Service IPs leave through eth0 unless kube-proxy DNATs them
        # first (the route must exist for the lookup before OUTPUT's nat).
        ip -n "${node}" route replace "${SERVICE_CIDRS%,*}" via "${NET_V4}"
        ip -n "${node}" -6 route replace "${SERVICE_CIDRS#*,}" via "${NET_V6}"
        for ((j = 1; j <= NUM_NODES; j++)); do
            ((j == i)) && continue
            ip -n "${node}" route replace "$(pod_v4 "${j}")" via "$(node_v4 "${j}")"
            ip -n "${node}" -6 route replace "$(pod_v6 "${j}")" via "$(node_v6 "${j}")"
        done
        # cluster-dns answers pods that ask it directly.
        ip -n "${NET_NS}" route replace "$(pod_v4 "${i}")" via "$(node_v4 "${i}")"
        ip -n "${NET_NS}" -6 route replace "$(pod_v6 "${i}")" via "$(node_v6 "${i}")"
    done
}

# ---------------------------------------------------------------------------
# Cluster DNS: cluster-dns in the network namespace, behind the Service
# kube-system/kube-dns (no selector) with slices this script writes.

start_cluster_dns() {
    start "${NET_NS}.forward" - "${BIN_DIR}/nsforward" \
        --listen="${NET_NS}/127.0.0.1:${NS_APISERVER_PORT}" \
        --listen="${NET_NS}/${NET_V4}:${NS_APISERVER_PORT}" \
        --to="127.0.0.1:${APISERVER_PORT}"
    start cluster-dns "${NET_NS}" "${BIN_DIR}/cluster-dns" \
        --kubeconfig="${NS_KUBECONFIG}" \
        --cluster-domain="${CLUSTER_DOMAIN}" \
        --listen=":53" \
        --health-addr=127.0.0.1:8080 \
        --metrics-addr=":9153" \
        --v=1
    cat >"${OUT}/services.yaml" <<EOF
# Written by hack/local-up-cluster.sh.
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels:
    k8s-app: kube-dns
    kubernetes.io/name: ClusterDNS
spec:
  ipFamilyPolicy: RequireDualStack
  ipFamilies: [IPv4, IPv6]
  clusterIP: ${DNS_SVC_V4}
  clusterIPs: [${DNS_SVC_V4}, "${DNS_SVC_V6}"]
  ports:
  - {name: dns, port: 53, targetPort: 53, protocol: UDP}
  - {name: dns-tcp, port: 53, targetPort: 53, protocol: TCP}
  - {name: metrics, port: 9153, targetPort: 9153, protocol: TCP}
---
apiVersion: discovery.signet.dev/v1
kind: EndpointSlice
metadata:
  name: kube-dns-ipv4
  namespace: kube-system
  labels:
    kubernetes.io/service-name: kube-dns
    endpointslice.kubernetes.io/managed-by: ${MANAGED_BY}
addressType: IPv4
endpoints:
- addresses: ["${NET_V4}"]
  conditions: {ready: true, serving: true, terminating: false}
ports:
- {name: dns, port: 53, protocol: UDP}
- {name: dns-tcp, port: 53, protocol: TCP}
- {name: metrics, port: 9153, protocol: TCP}
---
apiVersion: discovery.signet.dev/v1
kind: EndpointSlice
metadata:
  name: kube-dns-ipv6
  namespace: kube-system
  labels:
    kubernetes.io/service-name: kube-dns
    endpointslice.kubernetes.io/managed-by: ${MANAGED_BY}
addressType: IPv6
endpoints:
- addresses: ["${NET_V6}"]
  conditions: {ready: true, serving: true, terminating: false}
ports:
- {name: dns, port: 53, protocol: UDP}
- {name: dns-tcp, port: 53, protocol: TCP}
- {name: metrics, port: 9153, protocol: TCP}
---
# The Service "kubernetes" has no selector, so signet's controller writes
# no slice for it; pods reach kube-apiserver through the forwarder on the
# network namespace's bridge address.
apiVersion: discovery.signet.dev/v1
kind: EndpointSlice
metadata:
  name: kubernetes-ipv4
  namespace: default
  labels:
    kubernetes.io/service-name: kubernetes
    endpointslice.kubernetes.io/managed-by: ${MANAGED_BY}
addressType: IPv4
endpoints:
- addresses: ["${NET_V4}"]
  conditions: {ready: true, serving: true, terminating: false}
ports:
- {name: https, port: ${NS_APISERVER_PORT}, protocol: TCP}
EOF
    kc apply -f "${OUT}/services.yaml" >/dev/null
}

# ---------------------------------------------------------------------------
# Nodes.

start_node() {
    local i=$1
    local node="node-${i}"
    mkdir -p "${NODES_DIR}/${node}"
    start "${node}.forward" - "${BIN_DIR}/nsforward" \
        --listen="${node}/127.0.0.1:${NS_APISERVER_PORT}" \
        --to="127.0.0.1:${APISERVER_PORT}"
    start "${node}.nodeagent" "${node}" "${BIN_DIR}/nodeagent" \
        --kubeconfig="${NS_KUBECONFIG}" \
        --node-name="${node}" \
        --node-ip="$(node_v4 "${i}"),$(node_v6 "${i}")" \
        --pod-cidrs="$(pod_v4 "${i}"),$(pod_v6 "${i}")" \
        --node-labels="topology.kubernetes.io/zone=$(node_zone "${i}"),topology.kubernetes.io/region=${REGION}" \
        --cluster-dns="${NODECACHE_V4},${NODECACHE_V6}" \
        --cluster-domain="${CLUSTER_DOMAIN}" \
        --state-dir="${NODES_DIR}/${node}" \
        --testd-binary="${BIN_DIR}/signet-testd" \
        --v=1
    start "${node}.kube-proxy" "${node}" "${BIN_DIR}/kube-proxy" \
        --kubeconfig="${NS_KUBECONFIG}" \
        --hostname-override="${node}" \
        --cluster-cidr="${CLUSTER_CIDRS}" \
        --nodeport-addresses="10.100.0.0/24,fd00:100::/64" \
        --v=1
    start "${node}.node-cache" "${node}" "${BIN_DIR}/node-cache" \
        --localip="${NODECACHE_V4},${NODECACHE_V6}" \
        --cluster-dns="${DNS_SVC_V4},${DNS_SVC_V6}" \
        --cluster-domain="${CLUSTER_DOMAIN}" \
        --node-name="${node}" \
        --health-addr="${NODECACHE_V4}:9253" \
        --metrics-addr="${NODECACHE_V4}:9253" \
        --v=1
}

stop_node() {
    local node=$1 out
    stop "${node}.nodeagent" 40
    if [[ -e /run/netns/${node} && -x ${BIN_DIR}/nodeagent ]]; then
        if out="$(in_ns "${node}" "${BIN_DIR}/nodeagent" --cleanup --node-name="${node}" \
            --state-dir="${NODES_DIR}/${node}" 2>&1)"; then
            log "${node}: nodeagent --cleanup done"
        else
            echo "${out}" >&2
            log "${node}: nodeagent --cleanup failed (the namespace is removed anyway)"
        fi
    fi
    stop "${node}.kube-proxy"
    stop "${node}.node-cache"
    stop "${node}.forward"
}

nodes_ready() {
    local n
    n="$(kc get nodes -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' |
        grep -c '^node-[0-9]*=True$')" || return 1
    [[ ${n} -ge ${NUM_NODES} ]]
}

# dns_answers NODE SERVER: kube-dns's own name resolves through SERVER from
# NODE's namespace to both its cluster IPs.
dns_answers() {
    local node=$1 server=$2 conf out
    conf="${OUT}/dns-check-${server//:/_}.conf"
    [[ -f ${conf} ]] || printf 'nameserver %s\n' "${server}" >"${conf}"
    out="$(in_ns "${node}" "${BIN_DIR}/signet-testd" dns-lookup --resolv-conf="${conf}" --timeout=2s \
        "kube-dns.kube-system.svc.${CLUSTER_DOMAIN}" 2>&1)" || return 1
    grep -qx "${DNS_SVC_V4}" <<<"${out}" && grep -qx "${DNS_SVC_V6}" <<<"${out}"
}

# ---------------------------------------------------------------------------
# Commands.

load_state() {
    RECORDED_NODES=""
    if [[ -f ${STATE_FILE} ]]; then
        RECORDED_NODES="$(sed -n 's/^NUM_NODES=//p' "${STATE_FILE}")"
    fi
}

anything_running() {
    local f
    for f in "${PID_DIR}"/*.pid; do
        [[ -e ${f} ]] || continue
        proc_pid "$(basename "${f}" .pid)" >/dev/null && return 0
    done
    return 1
}

# write_state records the cluster's shape; the e2e suite may read it too.
write_state() {
    local i nodes=""
    for ((i = 1; i <= NUM_NODES; i++)); do nodes+="${nodes:+ }node-${i}"; done
    cat >"${STATE_FILE}" <<EOF
# Written by hack/local-up-cluster.sh up.
NUM_NODES=${NUM_NODES}
NODES="${nodes}"
KUBECONFIG=${KUBECONFIG_FILE}
APISERVER=https://127.0.0.1:${APISERVER_PORT}
SERVICE_CIDRS=${SERVICE_CIDRS}
CLUSTER_CIDRS=${CLUSTER_CIDRS}
KUBE_DNS_IPS=${DNS_SVC_V4},${DNS_SVC_V6}
NODE_CACHE_IPS=${NODECACHE_V4},${NODECACHE_V6}
CLUSTER_DOMAIN=${CLUSTER_DOMAIN}
NODES_DIR=${NODES_DIR}
BIN_DIR=${BIN_DIR}
EOF
}

cmd_up() {
    local t0=${SECONDS} i node
    ensure_prerequisites
    load_state
    if [[ -n ${RECORDED_NODES} && ${RECORDED_NODES} != "${NUM_NODES}" ]]; then
        if [[ -n ${NODES_GIVEN} ]]; then
            die "the cluster in ${OUT#"${ROOT}"/} has ${RECORDED_NODES} nodes; run '$0 down' before asking for ${NUM_NODES}"
        fi
        NUM_NODES=${RECORDED_NODES}
    fi
    mkdir -p "${OUT}" "${LOG_DIR}" "${PID_DIR}" "${NODES_DIR}"
    write_state
    log "local cluster with ${NUM_NODES} nodes in ${OUT#"${ROOT}"/}"

    build
    KUBECTL="${UPSTREAM_BIN}/kubectl"
    ensure_pki
    CHANGED=""
    start_control_plane
    ensure_network
    start_cluster_dns
    for ((i = 1; i <= NUM_NODES; i++)); do
        start_node "${i}"
    done

    log "waiting for ${NUM_NODES} Ready nodes"
    wait_for 180 "${NUM_NODES} Ready nodes" - nodes_ready
    log "waiting for kube-dns to answer through kube-proxy and node-cache on every node"
    wait_for 120 "kube-dns at ${DNS_SVC_V4} from node-1" cluster-dns dns_answers node-1 "${DNS_SVC_V4}"
    wait_for 60 "kube-dns at ${DNS_SVC_V6} from node-1" cluster-dns dns_answers node-1 "${DNS_SVC_V6}"
    for ((i = 1; i <= NUM_NODES; i++)); do
        node="node-${i}"
        wait_for 60 "node-cache on ${node}" "${node}.node-cache" dns_answers "${node}" "${NODECACHE_V4}"
        wait_for 60 "node-cache on ${node} (IPv6)" "${node}.node-cache" dns_answers "${node}" "${NODECACHE_V6}"
    done

    if [[ ${#STARTED[@]} -eq 0 && -z ${CHANGED} ]]; then
        log "the cluster was already up: nothing started"
    else
        log "started: ${STARTED[*]:-(nothing)}"
    fi
    log "cluster up in $((SECONDS - t0))s"
    cat <<EOF

  export KUBECONFIG=${KUBECONFIG_FILE}
  ${KUBECTL#"${ROOT}"/} get nodes,pods -A -o wide
  hack/pod-exec.sh NAMESPACE POD -- _output/bin/signet-testd dns-lookup kubernetes
  $0 status | down

EOF
}

cmd_status() {
    local bad=0 name pid i node state
    [[ $(id -u) -eq 0 ]] || die "needs root"
    load_state
    if [[ -z ${RECORDED_NODES} ]]; then
        echo "no local cluster (${OUT#"${ROOT}"/}/cluster.env is missing)"
        return 1
    fi
    NUM_NODES=${RECORDED_NODES}
    upstream_bin
    report() {
        local what=$1 status=$2 detail=${3:-}
        printf '  %-32s %-8s %s\n' "${what}" "${status}" "${detail}"
        [[ ${status} == ok || ${status} == running ]] || bad=1
    }
    proc_report() {
        local name=$1 detail=${2:-}
        if pid="$(proc_pid "${name}")"; then
            report "${name}" running "pid ${pid}${detail:+, ${detail}}"
        else
            report "${name}" DOWN "log: ${LOG_DIR#"${ROOT}"/}/${name}.log"
        fi
    }
    echo "control plane:"
    proc_report etcd "http://127.0.0.1:${ETCD_PORT}"
    proc_report kube-apiserver "https://127.0.0.1:${APISERVER_PORT}"
    proc_report signet-apiserver "https://127.0.0.1:${SIGNET_APISERVER_PORT}"
    proc_report kube-controller-manager
    proc_report kube-scheduler
    proc_report signet-controller-manager
    local api=""
    if kc get --raw /readyz >/dev/null 2>&1; then
        api=1
        report "kube-apiserver /readyz" ok
        if apiservices_available; then report "signet APIServices" ok "4 Available"; else report "signet APIServices" DOWN "kubectl get apiservices | grep signet"; fi
    else
        report "kube-apiserver /readyz" DOWN
    fi
    echo "network (${NET_NS}: bridge ${BRIDGE} ${NET_V4}/24 ${NET_V6}/64):"
    if [[ -e /run/netns/${NET_NS} ]]; then report "netns ${NET_NS}" ok; else report "netns ${NET_NS}" DOWN; fi
    proc_report "${NET_NS}.forward"
    proc_report cluster-dns "${NET_V4}:53 [${NET_V6}]:53"
    local nodes=""
    if [[ -n ${api} ]]; then
        nodes="$(kc get nodes -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null || true)"
    fi
    for ((i = 1; i <= NUM_NODES; i++)); do
        node="node-${i}"
        echo "${node} ($(node_v4 "${i}") $(node_v6 "${i}"), pods $(pod_v4 "${i}") $(pod_v6 "${i}"), $(node_zone "${i}")):"
        if [[ -e /run/netns/${node} ]]; then report "netns ${node}" ok; else report "netns ${node}" DOWN; fi
        for name in "${NODE_PROCS[@]}"; do
            proc_report "${node}.${name}"
        done
        if [[ -n ${api} ]]; then
            state="$(sed -n "s/^${node}=//p" <<<"${nodes}")"
            if [[ ${state} == True ]]; then report "Node ${node}" ok Ready; else report "Node ${node}" DOWN "Ready=${state:-missing}"; fi
        fi
        if [[ -e /run/netns/${node} && -x ${BIN_DIR}/signet-testd ]]; then
            if dns_answers "${node}" "${NODECACHE_V4}"; then
                report "DNS via node-cache" ok "kube-dns.kube-system resolves through ${NODECACHE_V4}"
            else
                report "DNS via node-cache" DOWN "kube-dns.kube-system does not resolve through ${NODECACHE_V4}"
            fi
        fi
    done
    echo "kubeconfig: ${KUBECONFIG_FILE}"
    if ((bad)); then
        echo "something is down: '$0 up' starts what is missing"
        return 1
    fi
    echo "everything runs"
}

cmd_down() {
    local t0=${SECONDS} n i node f ns did=""
    [[ $(id -u) -eq 0 ]] || die "needs root"
    load_state
    upstream_bin
    n=${RECORDED_NODES:-0}
    # Nodes: also any node-N namespace beyond the recorded count (an
    # interrupted "up" with another --nodes).
    local nodes=()
    for ((i = 1; i <= n; i++)); do nodes+=("node-${i}"); done
    for f in "${PID_DIR}"/node-*.nodeagent.pid; do
        [[ -e ${f} ]] || continue
        node="$(basename "${f}" .nodeagent.pid)"
        [[ " ${nodes[*]} " == *" ${node} "* ]] || nodes+=("${node}")
    done
    # Without records (a removed _output/local-up), node-N namespaces are
    # taken for this cluster's only next to its network namespace.
    if [[ -e /run/netns/${NET_NS} ]]; then
        while read -r ns _; do
            [[ ${ns} =~ ^node-[0-9]+$ ]] || continue
            [[ " ${nodes[*]} " == *" ${ns} "* ]] || nodes+=("${ns}")
        done < <(ip netns list 2>/dev/null)
    fi
    for node in "${nodes[@]}"; do
        stop_node "${node}"
    done
    stop cluster-dns
    stop "${NET_NS}.forward"
    for ((i = ${#CONTROL_PLANE[@]} - 1; i >= 0; i--)); do
        stop "${CONTROL_PLANE[i]}" 30
    done
    # Anything else with a pid file (nothing, normally).
    for f in "${PID_DIR}"/*.pid; do
        [[ -e ${f} ]] || continue
        stop "$(basename "${f}" .pid)"
    done
    # Processes of this cluster without a pid file (their records lost):
    # programs of this checkout whose arguments name this output directory.
    local pid exe
    for pid in /proc/[0-9]*; do
        pid=${pid#/proc/}
        exe="$(readlink "/proc/${pid}/exe" 2>/dev/null)" || continue
        [[ ${exe} == "${BIN_DIR}"/* || ${exe} == "${ROOT}"/_output/upstream/* ]] || continue
        tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null | grep -qF "${OUT}/" || continue
        log "stopping leftover process ${pid} ($(basename "${exe% (deleted)}"))"
        kill -TERM "${pid}" 2>/dev/null || true
    done
    # Namespaces: the pods' (if --cleanup left any), the nodes', the
    # network's. Deleting a namespace deletes its links, routes and rules.
    for node in "${nodes[@]}"; do
        while read -r ns _; do
            [[ ${ns} == "${node}"_* ]] || continue
            ip netns del "${ns}" 2>/dev/null && log "removed leftover pod namespace ${ns}"
            rm -rf "/etc/netns/${ns}"
        done < <(ip netns list 2>/dev/null)
        if [[ -e /run/netns/${node} ]]; then
            ip netns del "${node}" && log "removed network namespace ${node}" && did=1
        fi
    done
    if [[ -e /run/netns/${NET_NS} ]]; then
        ip netns del "${NET_NS}" && log "removed network namespace ${NET_NS} (bridge ${BRIDGE})" && did=1
    fi
    if [[ -d ${OUT} ]]; then
        if [[ -n ${KEEP_LOGS} && -d ${LOG_DIR} ]]; then
            find "${OUT}" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
            log "removed ${OUT#"${ROOT}"/} but logs/"
        else
            rm -rf "${OUT}"
            log "removed ${OUT#"${ROOT}"/}"
        fi
        did=1
    fi
    [[ -n ${did} ]] || log "no local cluster here: nothing to do"
    log "cluster down in $((SECONDS - t0))s"
}

# ---------------------------------------------------------------------------

[[ $# -ge 1 ]] || usage
command=$1
shift
NUM_NODES=3
NODES_GIVEN=""
REBUILD=""
KEEP_LOGS=""
while [[ $# -gt 0 ]]; do
    case $1 in
        --nodes) [[ $# -ge 2 ]] || usage; NUM_NODES=$2; NODES_GIVEN=1; shift 2 ;;
        --nodes=*) NUM_NODES=${1#--nodes=}; NODES_GIVEN=1; shift ;;
        --rebuild) REBUILD=1; shift ;;
        --keep-logs) KEEP_LOGS=1; shift ;;
        -h | --help) usage 0 ;;
        *) echo "unknown argument: $1" >&2; usage ;;
    esac
done
if ! [[ ${NUM_NODES} =~ ^[0-9]+$ ]] || ((NUM_NODES < 1 || NUM_NODES > MAX_NODES)); then
    die "--nodes must be a number from 1 to ${MAX_NODES}"
fi

case ${command} in
    up) cmd_up ;;
    status) cmd_status ;;
    down) cmd_down ;;
    -h | --help | help) usage 0 ;;
    *) usage ;;
esac
