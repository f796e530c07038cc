"""The certificates of the samples' TLS tests: tools/make-test-certs.sh's (a test CA, a
server certificate for localhost, 127.0.0.1 and ::1, one for another host, a self-signed one
and a client certificate), made once per build directory in $AFXSOCK_TLS_CERTS as for
test-tls (tests/meson.build and samples/meson.build set it and $AFXSOCK_MAKE_CERTS)."""
import os
import pathlib
import shutil
import ssl
import subprocess


def certs_dir():
    """The directory of the certificates, made first if it is not there yet."""
    path = pathlib.Path(os.environ["AFXSOCK_TLS_CERTS"])
    if not (path / "ca.pem").exists():
        # Made in a temporary directory, then renamed: never half there, whoever runs first.
        tmp = path.with_name("%s.tmp-%d" % (path.name, os.getpid()))
        subprocess.run([os.environ["AFXSOCK_MAKE_CERTS"], str(tmp)], check=True,
                       capture_output=True, timeout=60)
        try:
            os.rename(tmp, path)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            assert (path / "ca.pem").exists(), "no certificates in %s" % path
    return path


def server_args(certs, name="server", client_ca=False):
    """A sample server's options: speak TLS with certificate NAME, maybe require clients'."""
    args = ["--tls-certificate", str(certs / (name + ".pem")),
            "--tls-key", str(certs / (name + ".key"))]
    return args + (["--tls-client-ca", str(certs / "ca.pem")] if client_ca else [])


def client_args(certs, ca="ca", certificate=None):
    """A sample client's options: TLS, trusting CA's certificate, maybe presenting one."""
    args = ["--tls", "--tls-ca", str(certs / (ca + ".pem"))]
    if certificate:
        args += ["--tls-certificate", str(certs / (certificate + ".pem")),
                 "--tls-key", str(certs / (certificate + ".key"))]
    return args


def python_client_context(certs, certificate=None):
    """Python's own TLS client: verifies the server against the test CA."""
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    if certificate:
        context.load_cert_chain(str(certs / (certificate + ".pem")),
                                str(certs / (certificate + ".key")))
    return context


def python_server_context(certs):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(certs / "server.pem"), str(certs / "server.key"))
    return context
