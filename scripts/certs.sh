#!/usr/bin/env bash
# Test certificates for the TLS tests (a TLS-only MariaDB, a SASL_SSL and mutual-TLS Kafka), made with openssl:
#   ca.pem            the CA the services' certificates are signed by (what MAU_*_SSL_CA* points to)
#   other-ca.pem      a CA that signed nothing here: trusting it alone must fail
#   server.pem/.key   for DNS:localhost only, so 127.0.0.1 is a name the certificate does not hold
#   client.pem/.key   a client certificate (mutual TLS), CN=mau-client
#   server-keystore.pem  key and certificate in one file, as Kafka's PEM keystore takes them
#   scripts/certs.sh DIR     makes them once (kept when DIR/ca.pem exists)
set -euo pipefail
dir=${1:?usage: $0 DIR}
command -v openssl >/dev/null || { echo "certs: ERROR: openssl is missing (Debian package openssl)" >&2; exit 1; }
[[ -f $dir/ca.pem && -f $dir/server-keystore.pem ]] && exit 0
mkdir -p "$dir" && cd "$dir"
ca() { openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -keyout "$1.key" -out "$1.pem" -subj "/CN=$2" 2>/dev/null; }
signed() {
  local name=$1 cn=$2 ext=$3
  openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$name.key" -out "$name.csr" -subj "/CN=$cn" 2>/dev/null
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -sha256 -out "$name.pem" \
    -extfile <(printf '%s\n' "basicConstraints=CA:FALSE" "$ext") 2>/dev/null
  rm -f "$name.csr"
}
ca ca 'mau test CA'
ca other-ca 'mau other CA'
signed server localhost $'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth'
signed client mau-client 'extendedKeyUsage=clientAuth'
cat server.key server.pem > server-keystore.pem
chmod 600 ./*.key server-keystore.pem
echo "certs: made in $dir" >&2
