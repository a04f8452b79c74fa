"""Page bodies -> columns, without a dict per event.

A page of the documented shape is decoded by msgspec straight into small
typed structs (every field a string, metadata kept as its raw JSON text). An
events page then becomes a :class:`~statsig_pandas.frame.PageText`: each field
one string of its values joined by NULs, which ``build_frame`` converts with
every other page of the read in one Arrow call per field; a logs page is
converted on arrival the same way (:func:`~statsig_pandas.frame.list_columns`).
Per-page Arrow calls cost microseconds each however small the page, so this is
what keeps the conversion close to the cost of parsing the JSON at all (see
``benchmarks/bench_reader.py``).

A body off that shape (a number where a string belongs, a null time, a
metadata that is not an object, an escaped NUL, no envelope) fails the typed
decode or the bulk conversion and takes the generic path instead: plain JSON
values, then :func:`~statsig_pandas.frame.page_columns`, which knows every
tolerated deviation and the error to raise for the rest. Both paths give the
same frame (``tests/test_decode.py`` holds them to it).
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec

from .errors import ResponseFormatError
from .frame import PageColumns, PageText, list_columns, log_page_columns, page_columns

__all__ = ["PageCodec", "EVENTS", "LOGS", "envelope_data"]

_NULL = msgspec.Raw(b"null")


class _Event(msgspec.Struct, gc=False):
    """An item of ``/console/v1/events/{eventName}``."""

    timestamp: str | None = None
    name: str | None = None
    source: str | None = None
    value: str | None = None
    user: str | None = msgspec.field(default=None, name="userID")
    metadata: msgspec.Raw = _NULL


class _LogEvent(msgspec.Struct, gc=False):
    """An item of ``/console/v1/logs``: the same fields under other names, and an id."""

    timestamp: str | None = None
    name: str | None = msgspec.field(default=None, name="event_name")
    source: str | None = msgspec.field(default=None, name="sdk_type")
    value: str | None = None
    user: str | None = msgspec.field(default=None, name="user_id")
    metadata: msgspec.Raw = msgspec.field(default=_NULL, name="fields")
    id: str | None = None


E = TypeVar("E")


class _Body(msgspec.Struct, Generic[E], gc=False):
    data: list[E]
    pagination: dict[str, Any] | None = None


def envelope_data(body: Any, request: Any, status: int = 200) -> tuple[list, dict]:
    """The ``data`` list and ``pagination`` object of a documented envelope."""
    if isinstance(body, _Body):
        return body.data, body.pagination or {}
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        snippet = repr(body)[:200]
        raise ResponseFormatError(
            f"page {request.page} of {request.path} is not the documented {{message, data, pagination}} "
            f"envelope: {snippet}",
            status=status, page=request.page, snippet=snippet,
        )
    pagination = body.get("pagination")
    return body["data"], pagination if isinstance(pagination, dict) else {}


class PageCodec:
    """How the pages of one endpoint become :class:`~statsig_pandas.frame.PageColumns`.

    Parameters
    ----------
    logs : bool, default False
        ``/console/v1/logs`` (ISO 8601 times, event ids) rather than the events endpoint.
    errors : {"raise", "coerce"}, default "raise"
        As in :func:`~statsig_pandas.frame.page_columns`.

    Examples
    --------
    >>> codec = PageCodec()
    >>> body = codec.parse(b'{"data": [{"timestamp": "1720567904601", "name": "buy", "source": "js",'
    ...                    b' "value": "", "userID": "7", "metadata": {"plan": "pro"}}], "pagination": {}}')
    >>> cols = codec.columns(envelope_data(body, None)[0], page=1)
    >>> cols.timestamp.to_pylist(), cols.user.to_pylist(), list(cols.metadata)
    ([1720567904601], ['7'], [{'plan': 'pro'}])
    """

    def __init__(self, *, logs: bool = False, errors: str = "raise"):
        self.logs, self.errors = logs, errors
        self._event = _LogEvent if logs else _Event
        self._decoder = msgspec.json.Decoder(_Body[self._event])

    def parse(self, content: bytes) -> Any:
        """The body: typed structs if it has the documented shape, plain JSON values otherwise.

        Raises ``ValueError`` (``msgspec.DecodeError``) if it is not JSON.
        """
        # A value with a NUL in it (escaped: JSON has no raw one) cannot be joined by NULs.
        if b"\\u0000" not in content:
            try:
                return self._decoder.decode(content)
            except msgspec.ValidationError:
                pass
        return msgspec.json.decode(content)

    def columns(self, data: list, *, page: int) -> PageColumns | PageText:
        """A page's ``data`` (structs from :meth:`parse`, or dicts) as columns.

        Pages of the events endpoint come back as :class:`~statsig_pandas.frame.PageText`
        when they can, for ``build_frame`` to convert in bulk.
        """
        if not (data and type(data[0]) is self._event):
            convert = log_page_columns if self.logs else page_columns
            return convert(data, page=page, errors=self.errors)
        # One list per field, each by its own comprehension: reading a named slot is what is fast.
        fields = [[e.timestamp for e in data], [e.name for e in data], [e.source for e in data],
                  [e.value for e in data], [e.user for e in data]]
        metadata = [e.metadata for e in data]
        if self.logs:
            fields.append([e.id for e in data])
        else:
            text = PageText.from_lists(fields, metadata, page=page, errors=self.errors)
            if text is not None:
                return text
        return list_columns(fields, metadata, page=page, errors=self.errors, logs=self.logs)


#: The codecs of the two endpoints, for errors="raise".
EVENTS = PageCodec()
LOGS = PageCodec(logs=True)
