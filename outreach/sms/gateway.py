"""Where SMS leave the app: one small interface, a console gateway for the demo and development,
and Twilio through its official client. Errors come back sorted into what a dispatcher may retry,
what is final, and what is uncertain (the request may have reached the provider)."""

import itertools
import logging
from dataclasses import dataclass
from typing import Protocol

from outreach.geo.phone import mask_phone

logger = logging.getLogger("outreach.sms")

# Twilio codes that are final, with what they mean; 21610 also opts the number out.
INVALID_NUMBER = 21211  # Twilio: not a valid phone number; sending again cannot help
OPTED_OUT_CODE = 21610


@dataclass(frozen=True)
class SendResult:
    provider_sid: str
    provider_status: str


class GatewayError(Exception):
    """``retry``: the message certainly did not go out and may be tried again later.
    ``uncertain``: it may have gone out (a person must check). Otherwise the error is final."""

    def __init__(self, reason: str, *, code: int | None = None, retry: bool = False, uncertain: bool = False):
        super().__init__(reason)
        self.reason, self.code, self.retry, self.uncertain = reason, code, retry, uncertain


class Gateway(Protocol):
    name: str

    def send(self, to: str, body: str) -> SendResult: ...


class ConsoleGateway:
    """Logs that a message went and reports it sent: the demo never needs the network. The log
    names neither the number (only its last three digits) nor the text, which names the resident;
    the outbox page shows both to those who may see them."""

    name = "console"
    _ids = itertools.count(1)

    def send(self, to: str, body: str) -> SendResult:
        sid = f"console-{next(self._ids):08d}"
        logger.info("SMS %s to %s: %s characters", sid, mask_phone(to), len(body))
        return SendResult(sid, "sent")


class TwilioGateway:
    """The real ``twilio`` client. ``api_base`` points it at another base URL (the tests' fake server)."""

    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        status_callback: str,
        messaging_service_sid: str = "",
        from_: str = "",
        api_base: str = "",
        timeout: float = 15,
    ):
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        if not (account_sid and auth_token and (messaging_service_sid or from_)):
            raise RuntimeError(
                "SMS_GATEWAY=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
                "TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM"
            )
        # No retries inside the HTTP client: the dispatcher decides, so nothing is sent twice.
        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout, max_retries=0))
        if api_base:
            # The Api domain joins its base_url with "/2010-04-01/Accounts/<sid>/Messages.json".
            self.client.api.base_url = api_base.rstrip("/")
        self.sender = {"messaging_service_sid": messaging_service_sid} if messaging_service_sid else {"from_": from_}
        self.status_callback = status_callback

    def send(self, to: str, body: str) -> SendResult:
        import requests
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            message = self.client.messages.create(to=to, body=body, status_callback=self.status_callback, **self.sender)
        except TwilioRestException as exc:
            status = int(exc.status or 0)
            retry = status == 429 or status >= 500
            raise GatewayError(exc.msg or f"HTTP {status}", code=exc.code, retry=retry) from exc
        except requests.ConnectionError as exc:
            # Refused or unreachable before the request left: safe to try again. A connection
            # dropped after the request was sent, or a read timeout, may have sent it.
            raise GatewayError(
                str(exc)[:300], retry=not _may_have_arrived(exc), uncertain=_may_have_arrived(exc)
            ) from exc
        except requests.Timeout as exc:
            raise GatewayError(str(exc)[:300], uncertain=True) from exc
        except (requests.RequestException, TwilioException) as exc:
            raise GatewayError(str(exc)[:300], uncertain=True) from exc
        return SendResult(message.sid, message.status or "queued")


def _may_have_arrived(exc: Exception) -> bool:
    """False only when the connection itself could not be made (refused, no route, DNS, connect timeout)."""
    import requests
    from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

    if isinstance(exc, requests.ConnectTimeout):
        return False
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, NewConnectionError | ConnectTimeoutError | NameResolutionError):
            return False
        reason = getattr(cause, "reason", None)
        cause = (
            reason
            if isinstance(reason, BaseException)
            else (cause.args[0] if cause.args and isinstance(cause.args[0], BaseException) else cause.__cause__)
        )
    return True


def gateway_from_config(config) -> Gateway:
    """The gateway the settings name (``SMS_GATEWAY``)."""
    if config["SMS_GATEWAY"] == "twilio":
        return TwilioGateway(
            account_sid=config["TWILIO_ACCOUNT_SID"],
            auth_token=config["TWILIO_AUTH_TOKEN"],
            messaging_service_sid=config["TWILIO_MESSAGING_SERVICE_SID"],
            from_=config["TWILIO_FROM"],
            status_callback=config["PUBLIC_BASE_URL"].rstrip("/") + "/sms/status",
            api_base=config["TWILIO_API_BASE"],
            timeout=config["TWILIO_TIMEOUT_S"],
        )
    if config["SMS_GATEWAY"] == "console":
        return ConsoleGateway()
    raise RuntimeError(f"SMS_GATEWAY must be console or twilio, not {config['SMS_GATEWAY']!r}")
