"""The one I/O seam: every request to the Console API goes through :class:`Transport`.

It owns the rules that keep the key safe (https only, except to loopback; the
key header only ever goes to the base URL's origin, redirects included), the
headers Statsig asks for, retries (:mod:`.retry`, driven by tenacity) and the
mapping of HTTP answers to :mod:`.errors`.
"""

from __future__ import annotations

import ipaddress
import json
import os
from typing import Any, Callable, Mapping
from urllib.parse import urljoin, urlsplit

import msgspec
import requests
import tenacity

from ._version import __version__
from .errors import (
    AuthenticationError,
    NotFoundError,
    RateLimitError,
    ResponseFormatError,
    StatsigAPIError,
    StatsigConnectionError,
    StatsigError,
    redact,
)
from .retry import RetryPolicy, is_retryable_status, parse_retry_after, retry_delay

__all__ = ["Transport", "normalize_base_url", "resolve_key", "DEFAULT_BASE_URL", "API_VERSION", "KEY_ENV", "URL_ENV"]

DEFAULT_BASE_URL = "https://statsigapi.net"
API_VERSION = "20240601"
KEY_ENV = "STATSIG_CONSOLE_API_KEY"
URL_ENV = "STATSIG_CONSOLE_API_URL"
USER_AGENT = f"statsig-pandas/{__version__} python-requests/{requests.__version__}"
MAX_REDIRECTS = 5

# Network faults worth another attempt. SSL errors are not: a bad certificate stays bad.
_TRANSIENT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalize_base_url(url: str | None) -> str:
    """The API origin (``scheme://host[:port]``) from a user's base URL.

    Accepts a trailing ``/`` or ``/console/v1``. Refuses anything but https,
    except plain http to a loopback host (the emulator).
    """
    url = (url or os.environ.get(URL_ENV) or DEFAULT_BASE_URL).strip().rstrip("/")
    if url.endswith("/console/v1"):
        url = url[: -len("/console/v1")]
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise StatsigError(f"base_url must be an https:// URL such as {DEFAULT_BASE_URL}, not {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise StatsigError("base_url must not carry a query, fragment or credentials")
    if scheme == "http" and not _is_loopback(parts.hostname):
        raise StatsigError(
            f"refusing to send the API key over plain http to {parts.hostname}; "
            "use https (plain http is allowed only to loopback hosts such as the emulator)"
        )
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise StatsigError(f"base_url has an invalid port: {url!r}") from None
    return f"{scheme}://{parts.netloc.lower()}{parts.path}"


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port or default


def resolve_key(api_key: str | None) -> str:
    """The key to send: ``api_key``, else ``$STATSIG_CONSOLE_API_KEY``; refused if empty or not header-safe."""
    key = api_key if api_key is not None else os.environ.get(KEY_ENV, "")
    key = key.strip()
    if not key:
        raise StatsigError(
            f"no Statsig Console API key: pass api_key=... or set the environment variable {KEY_ENV}"
        )
    if not key.isascii() or not key.isprintable() or any(c.isspace() for c in key):
        raise StatsigError("the API key contains characters that cannot be sent in an HTTP header")
    return key


def _snippet(content: bytes, key: str, limit: int = 200) -> str:
    text = content[:limit * 4].decode("utf-8", "replace")
    text = redact(text, key)
    return text[:limit] + ("..." if len(text) > limit else "")


def error_for_answer(status: int, content: bytes, *, key: str, page: int | None, url: str,
                     retry_after: float | None = None) -> StatsigAPIError:
    """Map an HTTP error answer to the exception a user should see."""
    body = redact(content[:2000].decode("utf-8", "replace"), key)[:500]
    message = ""
    try:
        parsed = json.loads(content)
        if isinstance(parsed, dict):
            message = str(parsed.get("message") or "")
            errors = parsed.get("errors")
            if errors:
                message = f"{message} {errors}".strip()
    except ValueError:
        pass
    message = redact(message, key) if message else (_snippet(content, key, 120) or "no message")
    kwargs = dict(status=status, body=body, page=page, url=url)
    if status in (401, 403):
        hint = f" (check {KEY_ENV}: it must be an active Console API key)" if status == 401 else ""
        return AuthenticationError(message + hint, **kwargs)
    if status == 404:
        return NotFoundError(message, **kwargs)
    if status == 429:
        return RateLimitError(message, retry_after=retry_after, **kwargs)
    return StatsigAPIError(message, **kwargs)


class Transport:
    """An authenticated, retrying GET client for the Console API.

    Parameters
    ----------
    api_key : str, optional
        Defaults to the ``STATSIG_CONSOLE_API_KEY`` environment variable.
    base_url : str, optional
        Defaults to ``STATSIG_CONSOLE_API_URL``, else ``https://statsigapi.net``.
    timeout : float
        Seconds to connect and to wait for each read.
    session : requests.Session, optional
        A session of your own (proxies, certificates); it is not closed here.
    retry : RetryPolicy, optional
    pool_size : int
        Connections kept open, at least the read's concurrency.
    """

    def __init__(self, *, api_key: str | None = None, base_url: str | None = None, timeout: float = 30,
                 session: requests.Session | None = None, retry: RetryPolicy | None = None, pool_size: int = 10):
        self.base_url = normalize_base_url(base_url)
        self.__key = resolve_key(api_key)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._own_session = session is None
        if session is None:
            session = requests.Session()
            adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=max(pool_size, 1))
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            # requests re-reads the environment (proxies, CA bundle) on every request: a sixth of a
            # page's CPU. Read it once for the read instead; .netrc stays out, as it would add an
            # Authorization header of its own.
            settings = session.merge_environment_settings(self.base_url, {}, None, None, None)
            session.trust_env = False
            session.proxies.update(settings["proxies"])
            session.verify = settings["verify"]
        self._session = session

    def __repr__(self) -> str:
        return f"<Transport {self.base_url} key=***>"

    def close(self) -> None:
        if self._own_session:
            self._session.close()

    def __enter__(self) -> "Transport":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def headers(self) -> dict[str, str]:
        return {
            "STATSIG-API-KEY": self.__key,
            "STATSIG-API-VERSION": API_VERSION,
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }

    def redact(self, text: str) -> str:
        return redact(text, self.__key)

    def url(self, path: str) -> str:
        return self.base_url + path

    def _send_once(self, url: str, params: Mapping[str, Any], page: int | None) -> tuple[requests.Response, bytes]:
        """One attempt: the request, same-origin redirects, and the whole body."""
        home = _origin(self.base_url)
        for _ in range(MAX_REDIRECTS + 1):
            response = self._session.get(url, params=params, headers=self.headers, timeout=self.timeout,
                                         allow_redirects=False)
            content = response.content  # a connection dropped mid-body raises here, inside the attempt
            if not response.is_redirect:
                return response, content
            target = urljoin(response.url, response.headers["Location"])
            if _origin(target) != home:
                where = urlsplit(target).hostname or target
                raise StatsigError(
                    f"the API redirected page {page} to another host ({where}); refusing to follow it, "
                    "since the key is only ever sent to the base URL's host"
                )
            url, params = target, None
        raise StatsigError(f"too many redirects reading page {page}")

    def get(self, path: str, params: Mapping[str, Any] | None = None, *, page: int | None = None,
            on_throttle: Callable[[], None] | None = None,
            parse: Callable[[bytes], Any] = msgspec.json.decode) -> Any:
        """GET ``base_url + path`` and return the body of a 2xx answer, parsed by ``parse`` (plain JSON).

        429 and transient 5xx answers, dropped connections and timeouts are
        retried as :attr:`retry` says; ``on_throttle`` is called on every 429.
        Raises one of :mod:`statsig_pandas.errors` for anything else, with
        ``.url`` and ``.page``.
        """
        url = self.url(path)
        policy = self.retry

        def retry_after(state: tenacity.RetryCallState) -> float | None:
            if state.outcome.failed:
                return None
            response, _ = state.outcome.result()
            return parse_retry_after(response.headers.get("Retry-After"))

        def throttled(state: tenacity.RetryCallState) -> None:
            if on_throttle is not None and not state.outcome.failed and state.outcome.result()[0].status_code == 429:
                on_throttle()

        def out_of_attempts(state: tenacity.RetryCallState) -> tuple[requests.Response, bytes]:
            throttled(state)
            return state.outcome.result()  # the last answer, mapped to its error below; or the last exception

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_result(lambda answer: is_retryable_status(answer[0].status_code))
            | (tenacity.retry_if_exception_type(_TRANSIENT)
               & tenacity.retry_if_not_exception_type(requests.exceptions.SSLError)),
            stop=tenacity.stop_after_attempt(policy.max_attempts) | tenacity.stop_before_delay(policy.max_elapsed),
            wait=lambda state: retry_delay(state.attempt_number, retry_after(state), policy),
            before_sleep=throttled,
            retry_error_callback=out_of_attempts,
        )
        try:
            response, content = retrying(self._send_once, url, params or {}, page)
        except requests.exceptions.SSLError as exc:
            raise StatsigConnectionError(f"TLS error talking to {self.base_url} (page {page}): "
                                         f"{self.redact(type(exc).__name__)}", url=url, page=page) from None
        except _TRANSIENT as exc:
            raise StatsigConnectionError(
                f"could not read page {page} from {self.base_url} after {policy.max_attempts} attempt(s) "
                f"or {policy.max_elapsed:g} s: {type(exc).__name__}: {self.redact(str(exc))[:300]}",
                url=url, page=page,
            ) from None
        except requests.RequestException as exc:
            raise StatsigConnectionError(
                f"request for page {page} failed: {type(exc).__name__}: {self.redact(str(exc))[:300]}",
                url=url, page=page,
            ) from None
        status = response.status_code
        if not 200 <= status < 300:
            raise error_for_answer(status, content, key=self.__key, page=page, url=url,
                                   retry_after=parse_retry_after(response.headers.get("Retry-After")))
        try:
            return parse(content)
        except (ValueError, TypeError):  # msgspec.DecodeError is a ValueError
            raise ResponseFormatError(
                f"page {page} from {url} (HTTP {status}) is not JSON: {_snippet(content, self.__key)!r}",
                status=status, page=page, snippet=_snippet(content, self.__key), url=url,
            ) from None
