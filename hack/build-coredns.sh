#!/usr/bin/env bash
# Builds CoreDNS from the github.com/coredns/coredns module pinned in
# hack/coredns/go.mod (with the plugins hack/coredns/main.go imports) into
# _output/upstream/coredns-<version>/bin/coredns, once: when the binary is
# already there, nothing is rebuilt.
#
# Usage: hack/build-coredns.sh
# Prints the path of the binary on its last line.
set -o errexit -o nounset -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
MODULE="${ROOT}/hack/coredns"
version="$(cd "${MODULE}" && go list -m -f '{{.Version}}' github.com/coredns/coredns)"
bin_dir="${ROOT}/_output/upstream/coredns-${version}/bin"
binary="${bin_dir}/coredns"
mkdir -p "${bin_dir}"

if [[ -x "${binary}" ]]; then
    echo "coredns ${version}: already built" >&2
else
    echo "building coredns ${version}" >&2
    # Build to a temporary name of this run's own, so an interrupted build
    # never looks done and two concurrent runs never write the same file.
    tmp="${bin_dir}/.coredns.tmp.$$"
    trap 'rm -f "${tmp}"' EXIT
    (cd "${MODULE}" && CGO_ENABLED=0 go build -trimpath -o "${tmp}" .)
    mv -f "${tmp}" "${binary}"
fi
echo "${binary}"
