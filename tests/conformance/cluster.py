"""A throw-away control plane for conformance tests: etcd and a real kube-apiserver on 127.0.0.1.

In: the folder holding `etcd.gz`, `kube-apiserver.gz` and `kubeconform.gz` (../shared/apiserver) and a
scratch folder. Out: a running `ControlPlane` with an admin `kubernetes` client. Nothing is copied into
the project; the binaries are unpacked into the scratch folder and both processes are stopped by PID.
There is no controller-manager or scheduler: the server stores, defaults and validates, nothing runs.
"""

from __future__ import annotations

import datetime
import gzip
import ipaddress
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

BINARIES = ("etcd", "kube-apiserver", "kubeconform")
READY_TIMEOUT = 90.0


def unpack_binaries(shared: Path, into: Path) -> dict[str, Path]:
    """Each of BINARIES gunzipped into `into` and made executable; name -> path."""
    into.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in BINARIES:
        target = into / name
        with gzip.open(shared / f"{name}.gz", "rb") as packed, open(target, "wb") as unpacked:
            shutil.copyfileobj(packed, unpacked, 1 << 20)
        target.chmod(0o755)
        paths[name] = target
    return paths


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    admin_cert: Path
    admin_key: Path
    service_account_key: Path        # private key: signs tokens
    service_account_public: Path     # its public half: verifies them


def make_pki(folder: Path) -> Pki:
    """A CA, a server certificate for IP 127.0.0.1, an admin client (O=system:masters), an SA key.

    EC P-256 keys: generated in milliseconds, accepted by kube-apiserver for TLS and ES256 tokens.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)

    def key() -> ec.EllipticCurvePrivateKey:
        return ec.generate_private_key(ec.SECP256R1())

    def name(common: str, organization: str | None = None) -> x509.Name:
        parts = [x509.NameAttribute(NameOID.COMMON_NAME, common)]
        if organization:
            parts.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
        return x509.Name(parts)

    def write_key(path: Path, private: ec.EllipticCurvePrivateKey) -> Path:
        path.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        path.chmod(0o600)
        return path

    def write_cert(path: Path, cert: x509.Certificate) -> Path:
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return path

    ca_key = key()
    ca_name = name("maestro-conformance-ca")
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                            content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False,
                                            encipher_only=False, decipher_only=False), critical=True)
               .sign(ca_key, hashes.SHA256()))

    def leaf(subject: x509.Name, usage, sans=None):
        private = key()
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_name)
                   .public_key(private.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return builder.sign(ca_key, hashes.SHA256()), private

    server_cert, server_key = leaf(name("kube-apiserver"), ExtendedKeyUsageOID.SERVER_AUTH,
                                   [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")])
    admin_cert, admin_key = leaf(name("maestro-conformance-admin", "system:masters"), ExtendedKeyUsageOID.CLIENT_AUTH)
    service_account_key = key()
    service_account_public = folder / "sa.pub"
    service_account_public.write_bytes(service_account_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return Pki(
        ca=write_cert(folder / "ca.crt", ca_cert),
        server_cert=write_cert(folder / "server.crt", server_cert),
        server_key=write_key(folder / "server.key", server_key),
        admin_cert=write_cert(folder / "admin.crt", admin_cert),
        admin_key=write_key(folder / "admin.key", admin_key),
        service_account_key=write_key(folder / "sa.key", service_account_key),
        service_account_public=service_account_public,
    )


@dataclass
class ControlPlane:
    url: str
    pki: Pki
    processes: list[subprocess.Popen] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def api_client(self):
        """An admin `kubernetes.client.ApiClient` (client certificate in system:masters)."""
        from kubernetes import client

        configuration = client.Configuration()
        configuration.host = self.url
        configuration.ssl_ca_cert = str(self.pki.ca)
        configuration.cert_file = str(self.pki.admin_cert)
        configuration.key_file = str(self.pki.admin_key)
        configuration.verify_ssl = True
        return client.ApiClient(configuration)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
                         for log in self.logs if log.exists())

    def stop(self) -> None:
        """Stop the processes by PID, the server before its etcd: SIGTERM, SIGKILL after 5 s.

        Nothing of their state is kept, so a slow graceful shutdown buys nothing.
        """
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self.processes.clear()


def _spawn(argv: list[str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as sink:
        return subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(log.parent)})


def start_control_plane(binaries: dict[str, Path], scratch: Path) -> ControlPlane:
    """etcd and kube-apiserver on free 127.0.0.1 ports, ready (`/readyz` answers ok) on return.

    On any failure both processes are stopped before the error propagates.
    """
    pki = make_pki(scratch / "pki")
    client_port, peer_port, secure_port = free_port(), free_port(), free_port()
    etcd_client, etcd_peer = f"http://127.0.0.1:{client_port}", f"http://127.0.0.1:{peer_port}"
    plane = ControlPlane(url=f"https://127.0.0.1:{secure_port}", pki=pki)
    try:
        plane.logs.append(scratch / "etcd.log")
        plane.processes.append(_spawn([
            str(binaries["etcd"]), "--name", "local", "--data-dir", str(scratch / "etcd-data"),
            "--listen-client-urls", etcd_client, "--advertise-client-urls", etcd_client,
            "--listen-peer-urls", etcd_peer, "--initial-advertise-peer-urls", etcd_peer,
            "--initial-cluster", f"local={etcd_peer}", "--log-level", "warn",
        ], plane.logs[-1]))
        plane.logs.append(scratch / "kube-apiserver.log")
        plane.processes.append(_spawn([
            str(binaries["kube-apiserver"]),
            f"--etcd-servers={etcd_client}", "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--secure-port={secure_port}",
            f"--tls-cert-file={pki.server_cert}", f"--tls-private-key-file={pki.server_key}",
            f"--client-ca-file={pki.ca}",
            f"--service-account-key-file={pki.service_account_public}",
            f"--service-account-signing-key-file={pki.service_account_key}",
            "--service-account-issuer=https://kubernetes.default.svc",
            "--service-cluster-ip-range=10.96.0.0/16", "--authorization-mode=RBAC",
            f"--cert-dir={scratch / 'apiserver-certs'}", "--profiling=false",
        ], plane.logs[-1]))
        _wait_ready(plane)
    except BaseException:
        plane.stop()
        raise
    return plane


def _wait_ready(plane: ControlPlane) -> None:
    context = ssl.create_default_context(cafile=str(plane.pki.ca))
    context.load_cert_chain(str(plane.pki.admin_cert), str(plane.pki.admin_key))
    deadline = time.monotonic() + READY_TIMEOUT
    last = "no answer yet"
    while time.monotonic() < deadline:
        for process in plane.processes:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args[0]} exited with {process.returncode}\n{plane.log_tail()}")
        try:
            with urllib.request.urlopen(f"{plane.url}/readyz", context=context, timeout=5) as answer:
                if answer.status == 200 and answer.read().strip() == b"ok":
                    return
        except OSError as problem:
            last = str(problem)
        time.sleep(0.25)
    raise RuntimeError(f"kube-apiserver not ready after {READY_TIMEOUT:.0f}s ({last})\n{plane.log_tail()}")
