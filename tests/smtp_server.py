"""A real SMTP server for tests: aiosmtpd on a free loopback port, with failures on demand.

Usage (tests/ is on ``sys.path`` under pytest, so ``from smtp_server import ...`` works)::

    with SmtpServer() as server:                      # plain SMTP
        deliver(messages, server.settings())
        assert server.message_ids() == [...]

    server = SmtpServer(tls="starttls", user="duban", password="s3cret", tls_files=files)
    server = SmtpServer(tls="ssl", tls_files=make_tls_files(tmp_path))

Failure modes, switchable while running:

* ``down()`` / ``up()``: stop listening (connections are refused) and listen again on the same
  port.
* ``fail_next(n)``: answer the next ``n`` DATA commands with a 451 (or any reply given).
* ``refuse(address)``: answer RCPT TO for that address with a 550 (or any reply given).
* ``close_after(n)``: accept a message, then drop the connection after every ``n``-th
  message of a session (a server with a per-connection message limit).

Every accepted message is parsed (``email.policy.default``) into :class:`Received`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

TlsMode = Literal["none", "starttls", "ssl"]
HOST = "127.0.0.1"


def free_port(host: str = HOST) -> int:
    """A TCP port that was free a moment ago on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- certificates


@dataclass(frozen=True)
class TlsFiles:
    """A throwaway CA and a server certificate for localhost / 127.0.0.1 signed by it."""

    ca_cert: Path
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(str(self.cert), str(self.key))
        return ctx


def make_tls_files(directory: Path) -> TlsFiles:
    """Generate the CA and server certificate with ``cryptography``, or the openssl CLI."""
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    try:
        import cryptography  # noqa: F401
    except ImportError:
        _make_with_openssl(files, directory)
    else:
        _make_with_cryptography(files)
    return files


def _make_with_cryptography(files: TlsFiles) -> None:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "duban test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    files.ca_cert.write_bytes(ca.public_bytes(pem))
    files.cert.write_bytes(cert.public_bytes(pem))
    files.key.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def _make_with_openssl(files: TlsFiles, directory: Path) -> None:
    ca_key, csr, ext = directory / "ca.key", directory / "server.csr", directory / "server.ext"
    ext.write_text(
        "basicConstraints=CA:FALSE\n"
        "keyUsage=digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        f"subjectAltName=DNS:localhost,IP:{HOST}\n"
    )

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", str(ca_key), "-out", str(files.ca_cert), "-days", "2",
        "-subj", "/CN=duban test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(files.key), "-out", str(csr), "-subj", "/CN=localhost")  # fmt: skip
    run("x509", "-req", "-in", str(csr), "-CA", str(files.ca_cert), "-CAkey", str(ca_key),
        "-CAcreateserial", "-out", str(files.cert), "-days", "2", "-extfile", str(ext))  # fmt: skip


# ---------------------------------------------------------------- the server


@dataclass(frozen=True, eq=False)
class Received:
    """One message the server accepted; parsed on first use, off the server's thread."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    session: int  # which connection carried it (1, 2, …)
    mail_options: tuple[str, ...] = ()  # MAIL FROM parameters (e.g. "size=1234")

    @functools.cached_property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=policy.default)  # type: ignore[return-value]

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    def part(self, subtype: str) -> str:
        """The decoded ``text/<subtype>`` body."""
        body = self.message.get_body(preferencelist=(subtype,))
        if body is None or body.get_content_subtype() != subtype:
            raise AssertionError(f"no text/{subtype} part")
        return body.get_content()

    @property
    def text(self) -> str:
        return self.part("plain")

    @property
    def html(self) -> str:
        return self.part("html")


class _Handler:
    """aiosmtpd hooks; runs on the server's thread, so shared state is guarded by a lock."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_MAIL(self, server, session, envelope, address, mail_options) -> str:
        self.server._session_number(session)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        reply = self.server._refused.get(address.lower())
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        s = self.server
        with s._lock:
            if s._fail_next > 0:
                s._fail_next -= 1
                s.failed_data += 1
                return s._fail_reply
            raw = bytes(envelope.original_content or envelope.content)
            number = s._session_number(session)
            s._received.append(
                Received(
                    mail_from=envelope.mail_from,
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    raw=raw,
                    session=number,
                    mail_options=tuple(envelope.mail_options),
                )
            )
            count = getattr(session, "duban_count", 0) + 1
            session.duban_count = count
            drop = s._close_after is not None and count % s._close_after == 0
        if drop:  # reply 250 first, then hang up
            asyncio.get_running_loop().call_soon(server.transport.close)
        return "250 2.0.0 Message accepted"


class SmtpServer:
    """A real aiosmtpd server on a loopback port (see the module docstring)."""

    def __init__(
        self,
        *,
        tls: TlsMode = "none",
        user: str | None = None,
        password: str | None = None,
        tls_files: TlsFiles | None = None,
        host: str = HOST,
        port: int | None = None,
    ) -> None:
        if tls != "none" and tls_files is None:
            raise ValueError("tls_files are required for starttls/ssl")
        self.tls = tls
        self.user = user
        self.password = password
        self.tls_files = tls_files
        self.host = host
        self.port = port or free_port(host)
        self._lock = threading.RLock()
        self._received: list[Received] = []
        self._refused: dict[str, str] = {}
        self._fail_next = 0
        self._fail_reply = "451 4.3.0 Try again later"
        self._close_after: int | None = None
        self._sessions: dict[int, int] = {}
        self.failed_data = 0  # DATA commands answered with the failure reply
        self.auth_failures = 0
        self._controller: Controller | None = None

    # -- lifecycle

    def start(self) -> SmtpServer:
        if self._controller is not None:
            return self
        kwargs: dict[str, Any] = {"hostname": self.host, "port": self.port}
        if self.tls == "starttls":
            assert self.tls_files is not None
            kwargs.update(tls_context=self.tls_files.server_context(), require_starttls=True)
        elif self.tls == "ssl":
            assert self.tls_files is not None
            kwargs.update(ssl_context=self.tls_files.server_context())
            kwargs.update(auth_require_tls=False)  # implicit TLS: aiosmtpd cannot tell
        if self.user is not None:
            kwargs.update(authenticator=self._authenticate, auth_required=True)
            if self.tls == "none":
                kwargs.update(auth_require_tls=False)
        controller = Controller(_Handler(self), **kwargs)
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def down(self) -> None:
        """Stop listening: new connections are refused, open ones are cut."""
        self.stop()

    def up(self) -> None:
        """Listen again on the same port."""
        self.start()

    @property
    def running(self) -> bool:
        return self._controller is not None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- failure modes

    def fail_next(self, n: int, reply: str = "451 4.3.0 Try again later") -> None:
        with self._lock:
            self._fail_next = n
            self._fail_reply = reply

    def refuse(self, address: str, reply: str = "550 5.1.1 Mailbox unavailable") -> None:
        with self._lock:
            self._refused[address.lower()] = reply

    def close_after(self, n: int | None) -> None:
        with self._lock:
            self._close_after = n

    def reset_failures(self) -> None:
        with self._lock:
            self._fail_next = 0
            self._refused.clear()
            self._close_after = None

    # -- what arrived

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def message_ids(self) -> list[str]:
        return [r.message_id for r in self.received]

    @property
    def connections(self) -> int:
        """Connections that sent at least one MAIL FROM."""
        with self._lock:
            return len(self._sessions)

    def clear(self) -> None:
        with self._lock:
            self._received.clear()

    def settings(self, **overrides: Any):
        """``SmtpSettings`` pointing at this server (import kept local: a test helper)."""
        from notifiers.email import SmtpSettings

        values: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "tls": self.tls,
            "sender": "督办系统 <duban@office.example.cn>",
            "timeout": 10,
            "ca_file": str(self.tls_files.ca_cert) if self.tls_files else None,
            "local_hostname": "duban.test",
        }
        values.update(overrides)
        return SmtpSettings(**values)

    # -- internals

    def _session_number(self, session: Any) -> int:
        with self._lock:
            number = getattr(session, "duban_number", None)
            if number is None:
                number = len(self._sessions) + 1
                self._sessions[number] = number
                session.duban_number = number
        return number

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.user
            and auth_data.password.decode() == self.password
        )
        if not ok:
            self.auth_failures += 1
        return AuthResult(success=ok, handled=False)
