#!/usr/bin/env bash
# Fails if any Go file of the repository (generated ones included) is not
# gofmt-formatted, and lists the offenders.
set -o errexit -o nounset -o pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${ROOT}"
bad="$(find . -name '*.go' -not -path './_output/*' -not -path './.git/*' -print0 | xargs -0 gofmt -l)"
if [[ -n "${bad}" ]]; then
    echo "These files are not gofmt-formatted; run gofmt -w on them:" >&2
    echo "${bad}" >&2
    exit 1
fi
echo "gofmt: ok"
