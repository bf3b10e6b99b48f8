#!/usr/bin/env bash
# Regenerates every generated file of signet: deep-copy, defaulters and
# conversions for the internal and versioned API packages, OpenAPI
# definitions, and the clientset, listers, informers and apply
# configurations in signet.dev/client-go. Generators come from
# k8s.io/code-generator and k8s.io/kube-openapi at the versions go.mod pins.
#
# Usage: hack/update-codegen.sh            (in place)
#        SIGNET_ROOT=/some/copy hack/update-codegen.sh   (used by verify)

set -o errexit
set -o nounset
set -o pipefail

ROOT="${SIGNET_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)}"
cd "${ROOT}"

CODEGEN_PKG="$(go list -m -f '{{.Dir}}' k8s.io/code-generator)"
# Generators are installed per checkout so that an older copy elsewhere on
# PATH or in GOBIN can never produce the files.
export GOBIN="${CODEGEN_GOBIN:-${ROOT}/_output/codegen-bin}"
mkdir -p "${GOBIN}"

# shellcheck source=/dev/null
source "${CODEGEN_PKG}/kube_codegen.sh"
# core/v1 types (ObjectReference, TypedLocalObjectReference) are referenced by
# our OpenAPI; their model names already live in the read-only module cache.
KUBE_CODEGEN_READONLY_PKGS+=(k8s.io/api/core/v1)

BOILERPLATE="${ROOT}/hack/boilerplate.go.txt"
API_DIR="${ROOT}/staging/src/signet.dev/api"
CLIENT_DIR="${ROOT}/staging/src/signet.dev/client-go"

# Deep-copy for the versioned types.
kube::codegen::gen_helpers --boilerplate "${BOILERPLATE}" "${API_DIR}"

# Deep-copy for the internal types; defaulters and conversions for the
# served versions.
kube::codegen::gen_helpers --boilerplate "${BOILERPLATE}" "${ROOT}/pkg/apis"

# OpenAPI definitions of the versioned types, served by signet-apiserver and
# printed by `kubectl explain`. The API rule report lists upstream's own
# known violations (core/v1, apimachinery); any violation in a signet type
# must be fixed, not listed.
report_file="$(mktemp)"
schema_file="$(mktemp)"
trap 'rm -f "${report_file}" "${schema_file}"' EXIT
kube::codegen::gen_openapi \
    --output-dir "${ROOT}/pkg/generated/openapi" \
    --output-pkg "signet.dev/signet/pkg/generated/openapi" \
    --extra-pkgs "k8s.io/api/core/v1" \
    --extra-pkgs "k8s.io/apimachinery/pkg/util/intstr" \
    --report-filename "${report_file}" \
    --update-report \
    --output-model-name-file "zz_generated.model_name.go" \
    --boilerplate "${BOILERPLATE}" \
    "${API_DIR}"
if grep 'signet.dev/' "${report_file}"; then
    echo "ERROR: the API rule violations above are in signet's types; fix them" >&2
    exit 1
fi


# Clients. Apply configurations embed the OpenAPI schema so that
# server-side-apply extraction knows list and map semantics.
go run ./hack/tools/models-schema > "${schema_file}"
(
    cd "${CODEGEN_PKG}"
    GO111MODULE=on go install ./cmd/applyconfiguration-gen ./cmd/client-gen ./cmd/lister-gen ./cmd/informer-gen
)

# The generators are called directly rather than through
# kube::codegen::gen_client, which derives input packages from directories and
# so cannot see that staging/src/signet.dev/api is the module signet.dev/api.
API_PKG="signet.dev/api"
CLIENT_PKG="signet.dev/client-go"
GROUP_VERSIONS=(networking/v1beta1 networking/v1 discovery/v1alpha1 discovery/v1)
input_pkgs=()
client_inputs=()
for gv in "${GROUP_VERSIONS[@]}"; do
    input_pkgs+=("${API_PKG}/${gv}")
    client_inputs+=(--input "${gv}")
done

# Remove what the generators wrote last time, so that a type or version that
# goes away takes its client with it.
for sub in applyconfiguration clientset listers informers; do
    rm -rf "${CLIENT_DIR:?}/${sub}"
done

echo "Generating apply configurations"
"${GOBIN}/applyconfiguration-gen" \
    --go-header-file "${BOILERPLATE}" \
    --output-dir "${CLIENT_DIR}/applyconfiguration" \
    --output-pkg "${CLIENT_PKG}/applyconfiguration" \
    --openapi-schema "${schema_file}" \
    "${input_pkgs[@]}"

echo "Generating clientset"
"${GOBIN}/client-gen" \
    --go-header-file "${BOILERPLATE}" \
    --output-dir "${CLIENT_DIR}/clientset" \
    --output-pkg "${CLIENT_PKG}/clientset" \
    --clientset-name versioned \
    --apply-configuration-package "${CLIENT_PKG}/applyconfiguration" \
    --input-base "${API_PKG}" \
    "${client_inputs[@]}"

echo "Generating listers"
"${GOBIN}/lister-gen" \
    --go-header-file "${BOILERPLATE}" \
    --output-dir "${CLIENT_DIR}/listers" \
    --output-pkg "${CLIENT_PKG}/listers" \
    "${input_pkgs[@]}"

echo "Generating informers"
"${GOBIN}/informer-gen" \
    --go-header-file "${BOILERPLATE}" \
    --output-dir "${CLIENT_DIR}/informers" \
    --output-pkg "${CLIENT_PKG}/informers" \
    --versioned-clientset-package "${CLIENT_PKG}/clientset/versioned" \
    --listers-package "${CLIENT_PKG}/listers" \
    "${input_pkgs[@]}"
