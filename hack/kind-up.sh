#!/usr/bin/env bash
# Runs signet on a kind cluster, for users with a container engine: the
# images of deploy/Dockerfile, a dual-stack kind cluster without upstream
# kube-proxy (kubeProxyMode: none), and everything under deploy/:
# signet-apiserver (aggregated) and signet-controller-manager, signet's
# kube-proxy and node-cache as DaemonSets, and cluster-dns behind the
# Service kube-dns in place of CoreDNS. See docs/local-cluster.md ("On a
# kind cluster") and deploy/README.md.
#
# Usage: hack/kind-up.sh [up]     create (or update) the cluster
#        hack/kind-up.sh down     delete it
#
# Environment:
#   KIND_CLUSTER_NAME  cluster name (default signet)
#   KIND_NODE_IMAGE    node image for "kind create cluster --image" (default: kind's)
#   KIND_WORKERS       worker nodes (default 2)
#   CONTAINER_ENGINE   docker or podman (default docker; podman also needs
#                      KIND_EXPERIMENTAL_PROVIDER=podman for kind)
#   KUBECTL            kubectl to use (default: kubectl on PATH, else the one
#                      hack/build-upstream.sh builds)
#
# The kubeconfig is kind's (kubectl context kind-$KIND_CLUSTER_NAME);
# generated files (certificates, the kustomize overlay) are under
# _output/kind/$KIND_CLUSTER_NAME.
set -o errexit -o nounset -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
NAME="${KIND_CLUSTER_NAME:-signet}"
WORKERS="${KIND_WORKERS:-2}"
ENGINE="${CONTAINER_ENGINE:-docker}"
OUT="${ROOT}/_output/kind/${NAME}"
CONTEXT="kind-${NAME}"
IMAGES=(signet-apiserver signet-controller-manager kube-proxy node-cache cluster-dns signet-ingress)
MANAGED_BY=kind-up.signet.dev

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*"; }
die() {
    echo "kind-up: $*" >&2
    exit 1
}

command=${1:-up}
case ${command} in
    up | down) ;;
    -h | --help) sed -n '2,/^set -o/p' "${BASH_SOURCE[0]}" | sed -e '/^set -o/d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown command ${command}; usage: $0 [up|down]" ;;
esac

command -v kind >/dev/null 2>&1 || die "kind is not installed (https://kind.sigs.k8s.io)"

if [[ ${command} == down ]]; then
    kind delete cluster --name "${NAME}"
    rm -rf "${OUT}"
    exit 0
fi

command -v "${ENGINE}" >/dev/null 2>&1 || die "${ENGINE} is not installed (set CONTAINER_ENGINE)"
command -v openssl >/dev/null 2>&1 || die "openssl is not installed"
KUBECTL="${KUBECTL:-$(command -v kubectl || true)}"
if [[ -z ${KUBECTL} ]]; then
    KUBECTL="$("${ROOT}/hack/build-upstream.sh" kubectl | tail -n 1)/kubectl"
fi
kc() { "${KUBECTL}" --context "${CONTEXT}" "$@"; }
t0=${SECONDS}
mkdir -p "${OUT}"

# 1. Images.
for image in "${IMAGES[@]}"; do
    log "building signet.dev/${image}:latest"
    (cd "${ROOT}" && "${ENGINE}" build -f deploy/Dockerfile --target "${image}" -t "signet.dev/${image}:latest" .)
done

# 2. The cluster: dual-stack, no kube-proxy; kube-apiserver's aggregator
# dials signet-apiserver's pod directly (the Service IP needs signet's
# kube-proxy, which needs signet-apiserver: a cycle otherwise); kubelets
# point pods at node-cache. Both kubeadm config versions are listed; kind
# applies the one its node image uses.
if kind get clusters 2>/dev/null | grep -qx "${NAME}"; then
    log "kind cluster ${NAME} exists; updating it"
else
    {
        cat <<EOF
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  ipFamily: dual
  kubeProxyMode: none
  podSubnet: "10.244.0.0/16,fd00:10:244::/56"
  serviceSubnet: "10.96.0.0/16,fd00:10:96::/112"
nodes:
- role: control-plane
EOF
        for ((i = 0; i < WORKERS; i++)); do echo "- role: worker"; done
        cat <<EOF
kubeadmConfigPatches:
- |
  apiVersion: kubeadm.k8s.io/v1beta3
  kind: ClusterConfiguration
  apiServer:
    extraArgs:
      enable-aggregator-routing: "true"
- |
  apiVersion: kubeadm.k8s.io/v1beta4
  kind: ClusterConfiguration
  apiServer:
    extraArgs:
    - name: enable-aggregator-routing
      value: "true"
- |
  kind: KubeletConfiguration
  clusterDNS: ["169.254.20.10", "fd00::10"]
EOF
    } >"${OUT}/kind-config.yaml"
    log "creating kind cluster ${NAME} (config ${OUT#"${ROOT}"/}/kind-config.yaml)"
    kind create cluster --name "${NAME}" --config "${OUT}/kind-config.yaml" ${KIND_NODE_IMAGE:+--image "${KIND_NODE_IMAGE}"}
fi
for image in "${IMAGES[@]}"; do
    kind load docker-image --name "${NAME}" "signet.dev/${image}:latest"
done

# Topology labels: zone-a, zone-a, zone-b, ... in node order.
i=0
for node in $(kc get nodes -o jsonpath='{.items[*].metadata.name}'); do
    i=$((i + 1))
    if ((i <= 2)); then zone="zone-a"; elif ((i % 2)); then zone="zone-b"; else zone="zone-a"; fi
    kc label node "${node}" --overwrite "topology.kubernetes.io/zone=${zone}" topology.kubernetes.io/region=region-1 >/dev/null
done

# 3. Without a Service proxy yet, nothing reaches kube-apiserver through
# the Service "kubernetes": give the components its real address.
cp_ip="$(kc get node "${NAME}-control-plane" -o jsonpath='{.status.addresses[?(@.type=="InternalIP")].address}' |
    tr ' ' '\n' | grep -v ':' | head -n 1)"
[[ -n ${cp_ip} ]] || die "no IPv4 InternalIP on ${NAME}-control-plane"
log "kube-apiserver is at ${cp_ip}:6443"
kc -n kube-system create configmap kubernetes-services-endpoint \
    --from-literal=KUBERNETES_SERVICE_HOST="${cp_ip}" --from-literal=KUBERNETES_SERVICE_PORT=6443 \
    --dry-run=client -o yaml | kc apply -f - >/dev/null
if kc -n local-path-storage get deployment local-path-provisioner >/dev/null 2>&1; then
    # signet-apiserver's volume comes from it.
    kc -n local-path-storage set env deployment/local-path-provisioner \
        KUBERNETES_SERVICE_HOST="${cp_ip}" KUBERNETES_SERVICE_PORT=6443 >/dev/null
fi

# 4. cluster-dns replaces CoreDNS under the name kube-dns (10.96.0.10).
if kc -n kube-system get deployment coredns >/dev/null 2>&1; then
    log "removing CoreDNS (cluster-dns takes over the Service kube-dns)"
    kc -n kube-system delete deployment coredns --wait=true
fi
if [[ -z "$(kc -n kube-system get service kube-dns -o jsonpath='{.metadata.labels.app\.kubernetes\.io/part-of}' 2>/dev/null || true)" ]]; then
    kc -n kube-system delete service kube-dns --ignore-not-found --wait=true
fi

# 5. signet-apiserver's serving certificate, and the overlay that puts its
# CA into the APIServices and kube-apiserver's address into the workloads
# of signet-system.
certs="${OUT}/certs"
mkdir -p "${certs}"
if [[ ! -f ${certs}/tls.crt ]]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=signet-apiserver-ca" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "${certs}/ca.key" -out "${certs}/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=signet-apiserver.signet-system.svc" \
        -keyout "${certs}/tls.key" -out "${certs}/tls.csr" 2>/dev/null
    printf '%s\n' \
        "subjectAltName=DNS:signet-apiserver.signet-system.svc,DNS:signet-apiserver.signet-system.svc.cluster.local" \
        "extendedKeyUsage=serverAuth" "keyUsage=critical,digitalSignature,keyEncipherment" >"${certs}/san.ext"
    openssl x509 -req -in "${certs}/tls.csr" -CA "${certs}/ca.crt" -CAkey "${certs}/ca.key" \
        -set_serial "0x$(openssl rand -hex 16)" -days 365 -extfile "${certs}/san.ext" -out "${certs}/tls.crt" 2>/dev/null
fi
kc apply -f "${ROOT}/deploy/namespace.yaml" >/dev/null
kc -n signet-system create secret tls signet-apiserver-tls --cert="${certs}/tls.crt" --key="${certs}/tls.key" \
    --dry-run=client -o yaml | kc apply -f - >/dev/null

overlay="${OUT}/overlay"
mkdir -p "${overlay}"
ca_bundle="$(base64 <"${certs}/ca.crt" | tr -d '\n')"
endpoint_env="        env:
        - {name: KUBERNETES_SERVICE_HOST, value: \"${cp_ip}\"}
        - {name: KUBERNETES_SERVICE_PORT, value: \"6443\"}"
cat >"${overlay}/kustomization.yaml" <<EOF
# Written by hack/kind-up.sh.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../../../deploy
patches:
- target:
    group: apiregistration.k8s.io
    kind: APIService
  patch: |-
    - op: replace
      path: /spec/caBundle
      value: ${ca_bundle}
- patch: |-
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: signet-apiserver, namespace: signet-system}
    spec:
      template:
        spec:
          containers:
          - name: signet-apiserver
    ${endpoint_env//$'\n'/$'\n'    }
- patch: |-
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: signet-controller-manager, namespace: signet-system}
    spec:
      template:
        spec:
          containers:
          - name: signet-controller-manager
    ${endpoint_env//$'\n'/$'\n'    }
EOF

# 6. Everything under deploy/.
log "applying deploy/ (overlay ${overlay#"${ROOT}"/})"
kc apply -k "${overlay}"
kc -n signet-system rollout status statefulset/signet-apiserver --timeout=5m
log "waiting for signet's APIServices"
for api in v1.networking.signet.dev v1beta1.networking.signet.dev v1.discovery.signet.dev v1alpha1.discovery.signet.dev; do
    kc wait --for=condition=Available "apiservice/${api}" --timeout=3m
done
# The IngressClass is a networking.signet.dev object: only now can it be
# applied.
kc apply -f "${ROOT}/deploy/ingressclass.yaml"

# The Service "kubernetes" has no selector: signet's controller writes no
# slice for it, so signet's kube-proxy needs this one.
cat <<EOF | kc apply -f - >/dev/null
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
- addresses: ["${cp_ip}"]
  conditions: {ready: true, serving: true, terminating: false}
ports:
- {name: https, port: 6443, protocol: TCP}
EOF

kc -n signet-system rollout status deployment/signet-controller-manager --timeout=5m
kc -n kube-system rollout status daemonset/kube-proxy --timeout=5m
kc -n kube-system rollout status deployment/cluster-dns --timeout=5m
kc -n kube-system rollout status daemonset/node-cache --timeout=5m
kc -n signet-system rollout status deployment/signet-ingress --timeout=5m
kc get nodes -o wide
kc get endpointslices.discovery.signet.dev -A
log "signet on kind cluster ${NAME} in $((SECONDS - t0))s; kubectl --context ${CONTEXT} ..."
