#!/bin/sh
# Makes the certificates the TLS tests use, in DIR (created if needed):
#   ca.pem, ca.key              a test CA
#   server.pem, server.key      localhost, 127.0.0.1 and ::1, signed by the CA
#   other-host.pem, .key        example.org, signed by the CA (a wrong host name)
#   expired.pem, .key           localhost, signed by the CA, expired in 2020
#   not-yet-valid.pem, .key     localhost, signed by the CA, valid from 2099 on
#   self-signed.pem, .key       localhost, signed by itself (an unknown CA)
#   client.pem, client.key      a client certificate, signed by the CA
# EC P-256 keys, so that it takes a fraction of a second.
# Usage: tools/make-test-certs.sh DIR
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"

key () { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

key ca
openssl req -x509 -new -key ca.key -subj "/CN=afxsock test CA" -days 3650 -out ca.pem \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"

# sign NAME SUBJECT SAN [openssl ca dates]: a certificate for NAME.key signed by the CA
sign () {
    name=$1 subject=$2 san=$3
    key "$name"
    openssl req -new -key "$name.key" -subj "$subject" -out "$name.csr"
    printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\n' "$san" > "$name.ext"
    openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 \
        -extfile "$name.ext" -out "$name.pem" 2>/dev/null
}

sign server "/CN=localhost" "DNS:localhost,IP:127.0.0.1,IP:::1"
sign other-host "/CN=example.org" "DNS:example.org"
sign client "/CN=afxsock test client" "DNS:client"

# An expired certificate and one not valid yet: openssl x509 cannot choose the start date,
# openssl ca can.
key expired
openssl req -new -key expired.key -subj "/CN=localhost" -out expired.csr
: > index.txt
echo 1000 > serial
cat > ca.cnf <<CNF
[ca]
default_ca = test_ca
[test_ca]
database = index.txt
new_certs_dir = .
serial = serial
unique_subject = no
default_md = sha256
policy = any
copy_extensions = copy
x509_extensions = server_ext
[any]
commonName = supplied
[server_ext]
subjectAltName = DNS:localhost,IP:127.0.0.1
CNF
openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -notext \
    -startdate 20200101000000Z -enddate 20200201000000Z -in expired.csr -out expired.pem \
    2>/dev/null
key not-yet-valid
openssl req -new -key not-yet-valid.key -subj "/CN=localhost" -out not-yet-valid.csr
openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -notext \
    -startdate 20990101000000Z -enddate 21000101000000Z -in not-yet-valid.csr \
    -out not-yet-valid.pem 2>/dev/null

key self-signed
openssl req -x509 -new -key self-signed.key -subj "/CN=localhost" -days 365 \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -out self-signed.pem
