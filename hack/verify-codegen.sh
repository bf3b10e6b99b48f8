#!/usr/bin/env bash
# Fails if any generated file differs from what hack/update-codegen.sh
# produces now: a stale file after an API change, a hand edit of a generated
# file, or a generated file that should no longer exist. It regenerates into a
# copy of the work tree, so the work tree itself is never touched.
set -o errexit -o nounset -o pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${ROOT}"

scratch="$(mktemp -d)"
drift="$(mktemp)"
trap 'rm -rf "${scratch}" "${drift}"' EXIT
tar --exclude=./_output --exclude=./.git -cf - . | tar -C "${scratch}" -xf -

# Reuse this checkout's generator binaries; they depend only on go.mod.
SIGNET_ROOT="${scratch}" CODEGEN_GOBIN="${ROOT}/_output/codegen-bin" \
    "${scratch}/hack/update-codegen.sh" >"${drift}" 2>&1 || {
    cat "${drift}" >&2
    echo "update-codegen failed" >&2
    exit 1
}

if ! diff -r -q --exclude=_output --exclude=.git "${ROOT}" "${scratch}" >"${drift}" 2>&1; then
    echo "Generated code is out of date or was edited by hand:" >&2
    cat "${drift}" >&2
    echo "Run 'make update' and commit the result." >&2
    exit 1
fi
echo "codegen: up to date"
