#!/usr/bin/env bash
# Builds upstream Kubernetes components from the k8s.io/kubernetes module
# pinned in hack/upstream/go.mod into _output/upstream/<version>/bin, once
# per version: a component whose binary is already there is not rebuilt.
# etcd is built from go.etcd.io/etcd/server/v3 at the version the same
# go.mod resolves (the one k8s.io/apiserver's etcd client goes with).
#
# Usage: hack/build-upstream.sh [component...]
#   components: etcd kube-apiserver kube-controller-manager kube-scheduler kubectl
#   (default: all of them)
# Prints the bin directory on its last line.
set -o errexit -o nounset -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
UPSTREAM="${ROOT}/hack/upstream"
version="$(cd "${UPSTREAM}" && go list -m -f '{{.Version}}' k8s.io/kubernetes)"
bin_dir="${ROOT}/_output/upstream/${version}/bin"
mkdir -p "${bin_dir}"

components=("$@")
[[ ${#components[@]} -gt 0 ]] || components=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl)

for component in "${components[@]}"; do
    case "${component}" in
        kube-apiserver|kubectl|kube-controller-manager|kube-scheduler) pkg="k8s.io/kubernetes/cmd/${component}" ;;
        etcd) pkg="go.etcd.io/etcd/server/v3" ;;
        *) echo "unknown component ${component}" >&2; exit 2 ;;
    esac
    if [[ -x "${bin_dir}/${component}" ]]; then
        echo "${component} ${version}: already built" >&2
        continue
    fi
    echo "building ${component} ${version} (a cold build takes minutes)" >&2
    # Build to a temporary name of this run's own, so an interrupted build
    # never looks done and two concurrent runs never write the same file.
    tmp="${bin_dir}/.${component}.tmp.$$"
    (cd "${UPSTREAM}" && CGO_ENABLED=0 go build -trimpath -o "${tmp}" "${pkg}")
    mv -f "${tmp}" "${bin_dir}/${component}"
done
echo "${bin_dir}"
