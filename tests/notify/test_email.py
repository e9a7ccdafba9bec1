"""EmailNotifier against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from bot.errors import DeliveryFailed
from bot.notify.email import EmailNotifier, TlsMode
from bot.outbound import email_notifier
from bot.paging.ports import Contact, PageMessage
from bot.paging.words import ChannelRef, Code, Person
from bot.settings import load_settings
from tests.drivers.ports import free_port
from tests.fakes.smtp import Mailbox

SENDER = "Lucia on-call <oncall@lucia.example>"
ANA = Contact(name="Ana Ruiz", email="ana@lucia.example")
PASSWORD = "hunter2-smtp-secret"
PAGE = PageMessage(
    page_id=7,
    person=Person("Ana Ruiz", "U01ANA0000"),
    title=("SEV3 INC-12: Admin slow",),
    lines=(("Latency is up on the admin. Acknowledge in Slack.",),),
    urgent=False,
    incident_channel="C01INC12",
)
URGENT = PageMessage(
    page_id=8,
    person=Person("Ana Ruiz"),
    title=("SEV1 INC-13: Checkout crashes",),
    lines=(("Checkout fails.",),),
    urgent=True,
)


@pytest.fixture
def serve() -> Iterator[Any]:
    """Start an SMTP server: `serve(handler, **controller_options) -> port`."""
    controllers: list[Controller] = []

    def start(handler: Mailbox, **options: Any) -> int:
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
        controller.start()
        controllers.append(controller)
        return port

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (cert.pem, key.pem)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(  # noqa: S603 - fixed arguments
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def check_password(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    assert isinstance(data, LoginPassword)
    if data.login == b"lucia" and data.password == PASSWORD.encode():
        return AuthResult(success=True)
    # A careless server echoing the credentials back in its refusal.
    return AuthResult(
        success=False, handled=False, message=f"535 5.7.8 bad password {data.password.decode()}"
    )


def notifier(port: int, **options: Any) -> EmailNotifier:
    return EmailNotifier("127.0.0.1", port, sender=SENDER, tls="none", timeout=5, **options)


async def test_page_arrives_with_sender_recipient_subject_and_link(serve: Any) -> None:
    mailbox = Mailbox()
    receipt = await notifier(serve(mailbox)).send(ANA, PAGE)

    mail = mailbox.received()
    assert mailbox.envelopes[0].mail_from == "oncall@lucia.example"
    assert mailbox.envelopes[0].rcpt_tos == ["ana@lucia.example"]
    assert mail["From"] == SENDER
    assert mail["To"] == "Ana Ruiz <ana@lucia.example>"
    assert mail["Subject"] == "SEV3 INC-12: Admin slow"
    body = mail.get_content().replace("\r\n", "\n")  # as a mail reader shows it
    assert body.startswith("SEV3 INC-12: Admin slow\n\nLatency is up on the admin.")
    assert "https://slack.com/app_redirect?channel=C01INC12" in body
    assert mail["Message-ID"] == receipt
    assert mail["X-Priority"] is None


async def test_urgent_page_is_marked_high_priority(serve: Any) -> None:
    mailbox = Mailbox()
    await notifier(serve(mailbox)).send(ANA, URGENT)

    mail = mailbox.received()
    assert mail["X-Priority"] == "1"
    assert mail["Importance"] == "high"


async def test_refused_recipient_names_the_address(serve: Any) -> None:
    mailbox = Mailbox(refuse=frozenset({"ana@lucia.example"}))
    port = serve(mailbox)

    with pytest.raises(DeliveryFailed) as failed:
        await notifier(port).send(ANA, PAGE)

    assert str(failed.value).startswith(f"smtp 127.0.0.1:{port} refused the recipient")
    assert "ana@lucia.example: 550" in str(failed.value)
    assert mailbox.envelopes == []


async def test_nothing_listening_fails_fast() -> None:
    port = free_port()
    started = time.monotonic()

    with pytest.raises(DeliveryFailed, match="unreachable: connection refused"):
        await notifier(port).send(ANA, PAGE)

    assert time.monotonic() - started < 2  # well under the 5 s timeout


@pytest.mark.parametrize("tls", ["starttls", "tls"])
async def test_tls_server_with_login_delivers(
    serve: Any, certificate: tuple[Path, Path], tls: TlsMode
) -> None:
    mailbox = Mailbox()
    encrypted = (
        {"tls_context": server_tls(certificate), "require_starttls": True, "auth_required": True}
        if tls == "starttls"
        # aiosmtpd only counts STARTTLS as encryption when it decides whether AUTH is safe.
        else {"ssl_context": server_tls(certificate), "auth_require_tls": False}
    )
    port = serve(mailbox, authenticator=check_password, **encrypted)
    sender = EmailNotifier(
        "127.0.0.1",
        port,
        sender=SENDER,
        username="lucia",
        password=PASSWORD,
        tls=tls,
        cert_bundle=str(certificate[0]),
        timeout=5,
    )

    await sender.send(ANA, URGENT)

    assert mailbox.received()["Subject"] == "SEV1 INC-13: Checkout crashes"
    assert mailbox.logged_in == [True]


async def test_untrusted_certificate_is_refused(serve: Any, certificate: tuple[Path, Path]) -> None:
    mailbox = Mailbox()
    port = serve(mailbox, tls_context=server_tls(certificate), require_starttls=True)

    with pytest.raises(DeliveryFailed, match="TLS certificate not trusted"):
        await EmailNotifier("127.0.0.1", port, sender=SENDER, timeout=5).send(ANA, PAGE)

    assert mailbox.envelopes == []


async def test_password_never_appears_in_the_reason(
    serve: Any, certificate: tuple[Path, Path]
) -> None:
    port = serve(
        Mailbox(),
        tls_context=server_tls(certificate),
        require_starttls=True,
        authenticator=check_password,
        auth_required=True,
    )
    wrong = "wrong-" + PASSWORD
    sender = EmailNotifier(
        "127.0.0.1",
        port,
        sender=SENDER,
        username="lucia",
        password=wrong,
        cert_bundle=str(certificate[0]),
        timeout=5,
    )

    with pytest.raises(DeliveryFailed) as failed:
        await sender.send(ANA, PAGE)

    reason = str(failed.value)
    assert "refused the login of lucia: 535" in reason
    assert wrong not in reason
    assert wrong not in repr(sender)


def test_settings_turn_email_off_without_a_host_and_map_tls() -> None:
    assert email_notifier(load_settings({})) is None
    settings = load_settings(
        {
            "SMTP_HOST": "smtp.example.com",
            "SMTP_FROM": SENDER,
            "SMTP_USERNAME": "lucia",
            "SMTP_PASSWORD": PASSWORD,
            "SMTP_TLS": "tls",
            "SMTP_PORT": "465",
        }
    )
    built = email_notifier(settings)
    assert repr(built) == "EmailNotifier(smtp.example.com:465, tls=tls)"
    assert built is not None
    assert built.reaches(ANA, PAGE)
    assert not built.reaches(Contact(name="Bo"), PAGE)


async def test_people_and_channels_in_a_page_read_as_names_not_markup(serve: Any) -> None:
    mailbox = Mailbox()
    page = PageMessage(
        page_id=9,
        person=Person("Ana Ruiz", "U01ANA0000"),
        title=("Page from ", Person("Bea Souza", "U005")),
        lines=(
            ("Disk <nearly> full & rising, ask ", Person("Carla Dias", "U006"), " in ",
             ChannelRef("C01OPS", "ops")),
            ("Acknowledge with ", Code("/lucia incident ack #3"), "."),
        ),
        urgent=True,
    )  # fmt: skip

    await notifier(serve(mailbox)).send(ANA, page)

    mail = mailbox.received()
    assert mail["Subject"] == "Page from Bea Souza"
    assert mail["To"] == "Ana Ruiz <ana@lucia.example>"
    assert mail.get_content().replace("\r\n", "\n") == (
        "Page from Bea Souza\n\n"
        "Disk <nearly> full & rising, ask Carla Dias in #ops\n"
        "Acknowledge with “/lucia incident ack #3”.\n"
    )
