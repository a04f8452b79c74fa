"""The one I/O seam: every request to the Console API goes through :class:`Transport`.

It owns the rules that keep the key safe (https only, except to loopback; the
key header only ever goes to the base URL's origin, redirects included), the
headers Statsig asks for, retries (:mod:`.retry`, driven by tenacity) and the
mapping of HTTP answers to :mod:`.errors`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import math
import numbers
import os
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import msgspec
import requests
import tenacity

from ._http import Attempt, BodyTooLarge, Cancelled, DeadlinePassed, Watchdog, WatchedAdapter, read_body
from ._version import __version__
from .errors import (
    SNIPPET,
    AuthenticationError,
    NotFoundError,
    RateLimitError,
    ResponseFormatError,
    StatsigAPIError,
    StatsigConnectionError,
    StatsigError,
    redact,
    scrub,
    scrub_error,
)
from .retry import RetryPolicy, is_retryable_status, parse_retry_after, retry_delay

__all__ = ["Transport", "normalize_base_url", "resolve_key", "DEFAULT_BASE_URL", "API_VERSION", "KEY_ENV", "URL_ENV",
           "check_timeout", "MAX_RESPONSE_BYTES"]

DEFAULT_BASE_URL = "https://statsigapi.net"
API_VERSION = "20240601"
KEY_ENV = "STATSIG_CONSOLE_API_KEY"
URL_ENV = "STATSIG_CONSOLE_API_URL"
USER_AGENT = f"statsig-pandas/{__version__} python-requests/{requests.__version__}"
MAX_REDIRECTS = 5
#: The largest body accepted, after decompression: what one page may cost in memory.
MAX_RESPONSE_BYTES = 64 * 2**20

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
    except plain http to a loopback host (the emulator), and any host or
    port that is not plain ASCII (a look-alike of another host).
    """
    if not url:
        url = os.environ.get(URL_ENV) or DEFAULT_BASE_URL
    if not isinstance(url, str):
        raise StatsigError(f"base_url must be a str such as {DEFAULT_BASE_URL!r}, not {type(url).__name__}")
    url = url.strip().rstrip("/")
    if url.endswith("/console/v1"):
        url = url[: -len("/console/v1")]
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
        host = parts.hostname
    except ValueError as exc:
        raise StatsigError(f"base_url is not a valid URL ({exc}): {url!r}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        raise StatsigError(f"base_url must be an https:// URL such as {DEFAULT_BASE_URL}, not {url!r}")
    if not parts.netloc.isascii():
        raise StatsigError(f"base_url's host and port must be plain ASCII (spell an international name in its "
                           f"xn-- form): {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise StatsigError("base_url must not carry a query, fragment or credentials")
    if scheme == "http" and not _is_loopback(host):
        raise StatsigError(
            f"refusing to send the API key over plain http to {host}; "
            "use https (plain http is allowed only to loopback hosts such as the emulator)"
        )
    return f"{scheme}://{parts.netloc.lower()}{parts.path}"


def check_timeout(timeout: Any) -> float:
    """``timeout`` as seconds: a finite number above 0, else a :class:`StatsigError`."""
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not (
            math.isfinite(timeout) and timeout > 0):
        raise StatsigError(f"timeout must be a finite number of seconds above 0, not {timeout!r}")
    return float(timeout)


def _origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port of ``url``; ValueError if it is malformed."""
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port or default


def _proxy_host(proxy: str) -> str:
    try:
        return urlsplit(proxy if "://" in proxy else "http://" + proxy).hostname or proxy
    except ValueError:
        return proxy


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


def error_for_answer(status: int, content: bytes, *, key: str, page: int | None, url: str,
                     retry_after: float | None = None) -> StatsigAPIError:
    """Map an HTTP error answer to the exception a user should see."""
    body = scrub(content, key, limit=500)
    message = ""
    try:
        parsed = json.loads(content)
        if isinstance(parsed, dict):
            message = str(parsed.get("message") or "")
            errors = parsed.get("errors")
            if errors:
                message = f"{message} {errors}".strip()
    except (ValueError, RecursionError):  # not JSON, or nested past what a parser holds: the snippet says it
        pass
    message = scrub(message or content, key) or "no message"
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
        Seconds an attempt may take, from connecting to the last byte of the
        body; an attempt past it is aborted and retried as a timeout.
    session : requests.Session, optional
        A session of your own (proxies, certificates); it is not closed here.
        Its attempts are bounded between chunks of a body only.
    retry : RetryPolicy, optional
    pool_size : int
        Connections kept open, at least the read's concurrency.
    max_response_bytes : int
        The largest body accepted (after decompression); a larger one is a
        :class:`ResponseFormatError`.
    """

    def __init__(self, *, api_key: str | None = None, base_url: str | None = None, timeout: float = 30,
                 session: requests.Session | None = None, retry: RetryPolicy | None = None, pool_size: int = 10,
                 max_response_bytes: int = MAX_RESPONSE_BYTES):
        self.base_url = normalize_base_url(base_url)
        self.__key = resolve_key(api_key)
        self.timeout = check_timeout(timeout)
        if isinstance(max_response_bytes, bool) or not isinstance(max_response_bytes, int) or max_response_bytes < 1:
            raise StatsigError(f"max_response_bytes must be a positive integer, not {max_response_bytes!r}")
        self.max_response_bytes = max_response_bytes
        self.retry = retry or RetryPolicy()
        host = urlsplit(self.base_url).hostname
        loopback = _is_loopback(host)
        self._own_session = session is None
        if session is None:
            session = requests.Session()
            adapter = WatchedAdapter(pool_connections=1, pool_maxsize=max(pool_size, 1))
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            # requests re-reads the environment (proxies, CA bundle) on every request: a sixth of a
            # page's CPU. Read it once for the read instead; .netrc stays out, as it would add an
            # Authorization header of its own.
            settings = session.merge_environment_settings(self.base_url, {}, None, None, None)
            session.trust_env = False
            if not loopback:
                session.proxies.update(settings["proxies"])
            session.verify = settings["verify"]
        elif loopback and self.base_url.startswith("http://"):
            # A proxy the user chose themselves may be a local one (a debugging proxy); one elsewhere
            # would see the key in cleartext.
            proxy = requests.utils.select_proxy(self.base_url, session.proxies)
            if proxy and not _is_loopback(_proxy_host(proxy)):
                raise StatsigError(f"refusing to send the API key over plain http through the proxy at "
                                   f"{_proxy_host(proxy)}: only a proxy on loopback may carry plain http")
        # Loopback requests never take a proxy from the environment (as NO_PROXY=localhost,127.0.0.1,::1).
        self._proxies = {"no_proxy": "*"} if loopback else None  # every request here goes to that host
        self._session = session
        self._watchdog = Watchdog()

    def __repr__(self) -> str:
        return f"<Transport {self.base_url} key=***>"

    def close(self) -> None:
        self._watchdog.close()
        if self._own_session:
            self._session.close()

    def cancel(self) -> None:
        """Abort the requests in flight and start no other: the read they belong to is over."""
        self._watchdog.cancel()

    def __enter__(self) -> Transport:
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

    def key_fingerprint(self, salt: bytes) -> str:
        """A one-way fingerprint of the key (HMAC-SHA256 under ``salt``): what a cache may keep of it."""
        return hmac.new(salt, self.__key.encode(), hashlib.sha256).hexdigest()

    def scrub(self, text: str | bytes, limit: int = SNIPPET) -> str:
        """Server text fit for a message: redacted, then cut."""
        return scrub(text, self.__key, limit=limit)

    def scrub_error(self, error: StatsigError) -> StatsigError:
        """``error`` (raised over server text, e.g. by a codec) with the key scrubbed from all it says."""
        return scrub_error(error, self.__key)

    def url(self, path: str) -> str:
        return self.base_url + path

    def _send_once(self, url: str, params: Mapping[str, Any], page: int | None) -> tuple[requests.Response, bytes]:
        """One attempt: the request, same-origin redirects and the whole body, within one deadline."""
        attempt = self._watchdog.start(self.timeout)
        try:
            with attempt:
                return self._follow(url, params, page, attempt)
        except (requests.RequestException, OSError):
            if attempt.aborted == "cancelled":
                raise Cancelled() from None
            if attempt.aborted == "deadline":
                raise DeadlinePassed(f"no complete answer within the timeout of {self.timeout:g} s") from None
            raise
        finally:
            self._watchdog.done(attempt)

    def _follow(self, url: str, params: Mapping[str, Any], page: int | None,
                attempt: Attempt) -> tuple[requests.Response, bytes]:
        home = _origin(self.base_url)
        for _ in range(MAX_REDIRECTS + 1):
            try:
                response = self._session.get(url, params=params, headers=self.headers, timeout=self.timeout,
                                             allow_redirects=False, stream=True, proxies=self._proxies)
            except ValueError as exc:  # requests parses a redirect's Location even when not following it
                raise StatsigError(f"the API answered page {page} with a malformed URL, as a redirect's "
                                   f"Location ({scrub(str(exc), self.__key, limit=80)}); refusing it") from None
            try:
                content = read_body(response, attempt, cap=self.max_response_bytes)
            except BodyTooLarge as exc:
                how = " once decompressed" if exc.encoded else ""
                raise ResponseFormatError(
                    f"page {page} from {url}: the answer is larger{how} than max_response_bytes "
                    f"({exc.cap:,} bytes); refused", status=response.status_code, page=page, url=url) from None
            if not response.is_redirect:
                return response, content
            location = response.headers["Location"]
            try:
                target = urljoin(response.url, location)
                origin = _origin(target)
            except ValueError:
                raise StatsigError(f"the API redirected page {page} to a malformed Location "
                                   f"({scrub(location, self.__key, limit=80)!r}); refusing to follow it") from None
            if origin != home:
                where = urlsplit(target).hostname or target
                raise StatsigError(
                    f"the API redirected page {page} to another host ({scrub(where, self.__key, limit=80)}); "
                    "refusing to follow it, since the key is only ever sent to the base URL's host"
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
            sleep=self._watchdog.cancelled.wait,  # a cancelled read wakes up and starts no attempt
            wait=lambda state: retry_delay(state.attempt_number, retry_after(state), policy),
            before_sleep=throttled,
            retry_error_callback=out_of_attempts,
        )
        try:
            response, content = retrying(self._send_once, url, params or {}, page)
        except requests.RequestException as exc:
            raise self._connection_error(exc, url=url, page=page) from None
        status = response.status_code
        if not 200 <= status < 300:
            raise error_for_answer(status, content, key=self.__key, page=page, url=url,
                                   retry_after=parse_retry_after(response.headers.get("Retry-After")))
        try:
            return parse(content)
        except (ValueError, TypeError, RecursionError) as exc:  # msgspec.DecodeError is a ValueError
            raise self._not_json(exc, content, status=status, page=page, url=url) from None

    def _connection_error(self, exc: requests.RequestException, *, url: str,
                          page: int | None) -> StatsigConnectionError:
        """What a request that got no answer (after its retries, for transient failures) raises."""
        if isinstance(exc, requests.exceptions.SSLError):
            return StatsigConnectionError(f"TLS error talking to {self.base_url} (page {page}): "
                                          f"{self.redact(type(exc).__name__)}", url=url, page=page)
        detail = f"{type(exc).__name__}: {self.redact(str(exc))[:300]}"
        if isinstance(exc, _TRANSIENT):
            policy = self.retry
            return StatsigConnectionError(
                f"could not read page {page} from {self.base_url} after {policy.max_attempts} attempt(s) "
                f"or {policy.max_elapsed:g} s: {detail}", url=url, page=page)
        return StatsigConnectionError(f"request for page {page} failed: {detail}", url=url, page=page)

    def _not_json(self, exc: Exception, content: bytes, *, status: int, page: int | None,
                  url: str) -> ResponseFormatError:
        why = "nested too deeply" if isinstance(exc, RecursionError) else scrub(str(exc), self.__key, limit=80)
        snippet = scrub(content, self.__key)
        return ResponseFormatError(f"page {page} from {url} (HTTP {status}) is not JSON ({why}): {snippet!r}",
                                   status=status, page=page, snippet=snippet, url=url)
