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
  # model runtime: libtorch (CPU) and a fast BLAS for it
  libtorch-dev libopenblas0-openmp
  # service stack
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev prometheus-cpp-dev nlohmann-json3-dev
  # tests
  libgtest-dev libgmock-dev
  # independent reference for golden numerics in tests (python3-torch, not the code under test)
  python3 python3-numpy
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
  echo "setup: missing: ${missing[*]}"
  exit 1
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
