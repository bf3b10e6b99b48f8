#!/usr/bin/env bash
# Fails if go.mod or go.sum of any module would change under go mod tidy.
set -o errexit -o nounset -o pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
status=0
for m in . staging/src/signet.dev/api staging/src/signet.dev/client-go hack/upstream hack/coredns; do
    if ! diff="$(cd "${ROOT}/${m}" && go mod tidy -diff)"; then
        echo "go.mod/go.sum of ${m} are not tidy; run go mod tidy there:" >&2
        echo "${diff}" >&2
        status=1
    fi
done
[[ ${status} -eq 0 ]] && echo "go mod tidy: ok"
exit ${status}
