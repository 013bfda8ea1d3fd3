"""Authors' email receipts: one short plain-text message per address, sent after the commit."""

import asyncio
import logging
import smtplib
import ssl
from email.message import EmailMessage

from live.settings import Settings

log = logging.getLogger(__name__)
SMTP_TIMEOUT = 15.0


class ReceiptMailer:
    """Sends each receipt from a worker thread, so a slow or broken SMTP server holds up nothing."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._tasks: set[asyncio.Task] = set()

    def __call__(self, event: dict, question: dict, addresses: list[str]) -> None:
        messages = [self._message(event, question, address) for address in addresses]
        task = asyncio.create_task(self._send(messages), name="receipts")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _message(self, event: dict, question: dict, address: str) -> EmailMessage:
        """One message per author, so authors of merged questions never see each other's address."""
        link = f"{self.settings.base_url()}/e/{event['code']}/record"
        message = EmailMessage()
        message["From"] = self.settings.smtp_from or f"live@{self.settings.smtp_host}"
        message["To"] = address
        message["Subject"] = f"A written response to your question: {event['title']}"
        message.set_content(
            f"You asked at {event['title']}:\n\n"
            f"{question['text']}\n\n"
            f"The written response:\n\n"
            f"{question['response']}\n\n"
            f"Every question and its outcome: {link}\n\n"
            "You get this because you left your email address for receipts. "
            "You can delete it on the event page, under Your questions.\n"
        )
        return message

    async def _send(self, messages: list[EmailMessage]) -> None:
        try:
            await asyncio.to_thread(self._deliver, messages)
        except (OSError, smtplib.SMTPException) as exc:
            # The class, not the text: SMTP refusals quote the addresses they refused.
            log.warning("Could not send %d email receipt(s): %s", len(messages), type(exc).__name__)

    def _deliver(self, messages: list[EmailMessage]) -> None:
        settings = self.settings
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            for message in messages:
                smtp.send_message(message)

    async def close(self) -> None:
        """Let receipts already on their way finish before the server stops."""
        await asyncio.gather(*self._tasks, return_exceptions=True)
