"""GET list options: the ``where`` expression language, ``order``, paging and If-Modified-Since.

``where`` supports ``==``, ``!=``, ``>=``, ``<=``, ``>``, ``<``, ``AND``/``&&``, ``OR``/``||``, ``!``,
parentheses, dotted fields (``Contact.ContactID``), literals ``"text"``, numbers, ``true``/``false``/
``null``, ``DateTime(2026, 10, 1[, h, m, s])`` and ``Guid("...")``, and the string methods
``Contains``, ``StartsWith``, ``EndsWith``, ``ToLower()``/``ToUpper()``. Expressions are evaluated on the
documents as they are returned (so field names are Xero's); text compares case-insensitively.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .serialize import Resp, parse_datetime, parse_ms_value

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>==|!=|>=|<=|&&|\|\||[<>!(),.])'
    r"|(?P<id>[A-Za-z_][A-Za-z0-9_]*))"
)
Predicate = Callable[[dict[str, Any]], bool]


class QueryError(ValueError):
    pass


def split_list(value: str | None) -> list[str]:
    """``a,b`` or ``"a","b"`` -> ``["a", "b"]`` (IDs, InvoiceNumbers, ContactIDs, Statuses)."""
    return [part.strip().strip('"').strip() for part in (value or "").split(",") if part.strip().strip('"')]


def query_error(message: str) -> Resp:
    return Resp(400, {"ErrorNumber": 16, "Type": "QueryParseException", "Message": message})


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        match = _TOKEN.match(text, pos)
        if not match:
            raise QueryError(f"Unexpected character at position {pos} in where clause: {text[pos : pos + 10]!r}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def lookup(doc: dict[str, Any], path: list[str]) -> Any:
    value: Any = doc
    for part in path:
        if not isinstance(value, dict):
            return None
        key = part if part in value else next((k for k in value if k.lower() == part.lower()), None)
        value = value.get(key) if key else None
    return value


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, str):
        return parse_ms_value(value) or _try(lambda: parse_datetime(value))
    return None


def _try(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except (ValueError, TypeError, InvalidOperation):
        return None


def compare(left: Any, op: str, right: Any) -> bool:
    if right is None or left is None:
        return (left is right) if op == "==" else (left is not right) if op == "!=" else False
    if isinstance(right, bool):
        a, b = left is True, right
    elif isinstance(right, datetime):
        a, b = _as_datetime(left), right
    elif isinstance(right, Decimal):
        a, b = _try(lambda: Decimal(str(left))), right
    else:
        a, b = str(left).casefold(), str(right).casefold()
    if a is None:
        return op == "!="
    ops = {"==": a == b, "!=": a != b, ">=": a >= b, "<=": a <= b, ">": a > b, "<": a < b}
    return ops[op]


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks, self.i = _tokens(text), 0

    def peek(self, offset: int = 0) -> tuple[str, str]:
        return self.toks[self.i + offset] if self.i + offset < len(self.toks) else ("end", "")

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if value is not None and tok[1].upper() != value.upper():
            raise QueryError(f"Expected {value!r} but found {tok[1]!r} in where clause")
        self.i += 1
        return tok

    def parse(self) -> Predicate:
        pred = self.expr()
        if self.peek()[0] != "end":
            raise QueryError(f"Unexpected {self.peek()[1]!r} in where clause")
        return pred

    def expr(self) -> Predicate:
        parts = [self.conj()]
        while self.peek()[1].upper() in ("OR", "||"):
            self.take()
            parts.append(self.conj())
        return parts[0] if len(parts) == 1 else (lambda d, ps=parts: any(p(d) for p in ps))

    def conj(self) -> Predicate:
        parts = [self.unary()]
        while self.peek()[1].upper() in ("AND", "&&"):
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda d, ps=parts: all(p(d) for p in ps))

    def unary(self) -> Predicate:
        if self.peek()[1] in ("!",) or self.peek()[1].upper() == "NOT":
            self.take()
            inner = self.unary()
            return lambda d: not inner(d)
        if self.peek()[1] == "(":
            self.take("(")
            inner = self.expr()
            self.take(")")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        kind, name = self.take()
        if kind != "id":
            raise QueryError(f"Expected a field name but found {name!r} in where clause")
        path, method, arg = [name], None, None
        while self.peek()[1] == ".":
            self.take(".")
            part = self.take()[1]
            if self.peek()[1] == "(":
                self.take("(")
                if part.lower() not in ("tolower", "toupper"):  # text compares case-insensitively anyway
                    method, arg = part.lower(), self.value()
                self.take(")")
            else:
                path.append(part)
        if method is not None:
            fns = {"contains": lambda s, a: a in s, "startswith": str.startswith, "endswith": str.endswith}
            if method not in fns:
                raise QueryError(f"Unsupported method {method!r} in where clause")
            fn, needle = fns[method], str(arg).casefold()
            return lambda d: isinstance(lookup(d, path), str) and fn(lookup(d, path).casefold(), needle)
        op = self.take()[1]
        if op not in ("==", "!=", ">=", "<=", ">", "<"):
            raise QueryError(f"Expected a comparison operator but found {op!r} in where clause")
        right = self.value()
        return lambda d: compare(lookup(d, path), op, right)

    def value(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return bytes(text[1:-1], "utf-8").decode("unicode_escape")
        if kind == "num":
            return Decimal(text)
        word = text.lower()
        if word in ("true", "false"):
            return word == "true"
        if word == "null":
            return None
        if word == "guid":
            self.take("(")
            inner = self.value()
            self.take(")")
            return str(inner)
        if word == "datetime":
            if self.peek()[1] == ".":
                self.take(".")
                self.take()
            self.take("(")
            args = [self.value()]
            while self.peek()[1] == ",":
                self.take(",")
                args.append(self.value())
            self.take(")")
            if len(args) == 1 and isinstance(args[0], str):
                return parse_datetime(args[0])
            return datetime(*(int(a) for a in args), tzinfo=UTC)  # type: ignore[misc]
        raise QueryError(f"Unexpected {text!r} in where clause")


def where(text: str) -> Predicate:
    try:
        return _Parser(text).parse()
    except (ValueError, TypeError) as exc:
        raise QueryError(str(exc)) from exc


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    moment = _as_datetime(value) if isinstance(value, str) and value.startswith("/Date(") else None
    if moment is not None:
        return (1, moment.timestamp())
    if isinstance(value, bool | int | Decimal):
        return (1, Decimal(value))
    return (2, str(value).casefold())


def order(docs: list[dict[str, Any]], spec: str | None) -> list[dict[str, Any]]:
    if not spec:
        return docs
    out = list(docs)
    for clause in reversed([c.strip() for c in spec.split(",") if c.strip()]):
        words = clause.split()
        field, descending = words[0], len(words) > 1 and words[1].upper() == "DESC"
        path = field.split(".")
        out.sort(key=lambda d, p=path: _sort_key(lookup(d, p)), reverse=descending)
    return out


def modified_since(header: str | None) -> Callable[[int], bool]:
    if not header:
        return lambda _ms: True
    since = parse_datetime(header)
    cutoff = int(since.timestamp() * 1000)
    return lambda ms: ms >= cutoff


def page(docs: list[Any], query: dict[str, str]) -> tuple[list[Any], dict[str, int] | None]:
    """Slice for ``page``/``pageSize`` (100 by default, at most 1000); no ``page`` -> everything."""
    if "page" not in query:
        return docs, None
    try:
        number = max(1, int(query["page"]))
    except ValueError:
        number = 1
    try:
        size = min(1000, max(1, int(query.get("pageSize", "100"))))
    except ValueError:
        size = 100
    count = len(docs)
    pages = (count + size - 1) // size
    chunk = docs[(number - 1) * size : number * size]
    return chunk, {"page": number, "pageSize": size, "pageCount": pages, "itemCount": count}
