#!/usr/bin/env bash
# Makes development secrets for docker-compose.yml in this folder (git ignores them): a CA
# (ca.crt, ca.key), the server's certificate for localhost and 127.0.0.1 (server.crt, server.key),
# a client certificate for mutual TLS (client.crt, client.key, CN "dev-client"), and one bearer
# token (tokens: "TOKEN dev" for the server; client.token for arc-client --token_file).
# Production secrets come from your PKI and secret store, never from this script.
set -euo pipefail
cd "$(dirname "$0")"
umask 077
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.crt -days 365 -subj "/CN=arc-dev-ca" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
leaf() {  # name cn extensions
  printf '%b' "$3" > "$1.ext"
  openssl req "${ec[@]}" -keyout "$1.key" -out "$1.csr" -subj "/CN=$2"
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" \
    -days 365 -extfile "$1.ext"
  rm -f "$1.csr" "$1.ext"
}
leaf server arc-server "subjectAltName=DNS:localhost,DNS:arc-server,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
leaf client dev-client "extendedKeyUsage=clientAuth\n"
token=$(openssl rand -hex 32)
printf '%s dev\n' "$token" > tokens
printf '%s\n' "$token" > client.token
# The server runs as uid 10001 in the container: let it read its files.
chmod 644 ca.crt server.crt client.crt
chmod 644 server.key tokens
echo "wrote $(pwd): ca.crt server.crt server.key client.crt client.key tokens client.token"
