#!/usr/bin/env bash
# Runs a command inside a pod of the local cluster: in the pod's network
# namespace, with the pod's /etc/resolv.conf and /etc/hosts (ip netns exec
# mounts them from /etc/netns/<namespace>/). Needs root.
#
# Usage: hack/pod-exec.sh NAMESPACE POD -- COMMAND [ARG...]
#   e.g. hack/pod-exec.sh default web-0 -- _output/bin/signet-testd dns-lookup kubernetes
#
# The pod's network namespace is read from its annotation
# e2e.signet.dev/netns, which the node agent sets, with kubectl ($KUBECTL,
# else kubectl on PATH, else the one hack/build-upstream.sh built) and
# $KUBECONFIG (default _output/local-up/kubeconfig); without an API server
# it is looked up in the node agents' state directories under
# $SIGNET_NODES_DIR (default _output/local-up/nodes).
#
# The command runs as a program of this machine in the pod's network; it
# does not see the pod's hostname (the node agent gives each container a
# UTS namespace of its own).
set -o errexit -o nounset -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"

usage() {
    echo "usage: $0 NAMESPACE POD -- COMMAND [ARG...]" >&2
    exit 2
}
[[ $# -ge 4 && $3 == "--" ]] || usage
namespace=$1 pod=$2
shift 3

netns=""
kubectl="${KUBECTL:-}"
if [[ -z ${kubectl} ]]; then
    kubectl="$(command -v kubectl || true)"
fi
if [[ -z ${kubectl} ]]; then
    kubectl="$(ls -1 "${ROOT}"/_output/upstream/*/bin/kubectl 2>/dev/null | tail -n 1 || true)"
fi
export KUBECONFIG="${KUBECONFIG:-${ROOT}/_output/local-up/kubeconfig}"
if [[ -n ${kubectl} ]]; then
    netns="$("${kubectl}" get pod --namespace "${namespace}" "${pod}" \
        -o jsonpath='{.metadata.annotations.e2e\.signet\.dev/netns}' 2>/dev/null || true)"
fi
if [[ -z ${netns} ]]; then
    # The agents' records: <state-dir>/pods/<namespace>_<pod>_<uid>.json,
    # the newest first (a pod replaced under the same name may still be
    # terminating).
    nodes_dir="${SIGNET_NODES_DIR:-${ROOT}/_output/local-up/nodes}"
    record="$(ls -1t "${nodes_dir}"/*/pods/"${namespace}_${pod}_"*.json 2>/dev/null | head -n 1 || true)"
    if [[ -n ${record} ]]; then
        netns="$(sed -n 's/^ *"netns": "\([^"]*\)".*/\1/p' "${record}")"
    fi
fi
if [[ -z ${netns} ]]; then
    echo "pod ${namespace}/${pod}: no network namespace found (not running on a node agent yet, or a hostNetwork pod)" >&2
    exit 1
fi
if [[ ! -e /run/netns/${netns} ]]; then
    echo "pod ${namespace}/${pod}: its network namespace ${netns} does not exist (any more)" >&2
    exit 1
fi
exec ip netns exec "${netns}" "$@"
