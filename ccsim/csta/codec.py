"""ECMA-323 XML encoding and decoding of :mod:`ccsim.csta.messages`.

The codec is driven by a table compiled once from the message dataclasses (their
annotations, see :class:`~ccsim.csta.messages.Xml`): one generic reader and one
generic writer per value kind, instead of an encoder and a decoder per message.

Liberal in what it accepts
    Any namespace (editions 2-6, none, prefixed) is accepted: elements are matched
    by local name. Unknown elements and attributes are skipped. Device identifiers
    are read in both the plain and the ``<deviceIdentifier>``-wrapped form, with
    their ``typeOfNumber`` and decorations kept. Leading whitespace, a byte-order
    mark, and a declared encoding other than UTF-8 are tolerated.

Strict in what it trusts
    Network XML never reaches the parser with a document type declaration: the body
    is first decoded to text by us, any ``<!DOCTYPE`` or ``<!ENTITY`` is refused,
    and the text is handed to expat (the C ``xml.etree`` parser) as a ``str``, which
    forces UTF-8 and so cannot be re-interpreted in another encoding. Without a DTD,
    XML can declare no entity: only the five predefined entities and character
    references exist, so there is nothing to expand (billion laughs) and nothing
    external to resolve (XXE), and the parse is linear in the input, which framing
    bounds to 64 KiB. This costs a substring search instead of defusedxml's
    pure-Python parser (about 2.5x slower here); ``tests/csta`` proves it against
    the hostile inputs. Every failure surfaces as :class:`DecodeError` with a
    ``kind``, never as another exception.

Fast where it counts
    Decoding is at least as fast as a bare ``xml.etree`` parse-and-walk (see
    ``benchmarks/bench_csta.py``): screened bodies are fed into one long-lived expat
    parser instead of a new one each (creating it costs as much as parsing a typical
    event), under checks that accept a body only when a fresh parser would build the
    same tree from it, and fall back to a fresh parser otherwise (:class:`_Stream`);
    each message class has a precompiled decode plan, tag -> step, and identifiers
    and device identifiers, nearly all fields, are read inline.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Final, Union
from xml.etree.ElementTree import Element, ParseError, TreeBuilder, XMLParser

from ccsim.csta import messages as m
from ccsim.csta.messages import ConnectionID, DeviceID, Failure, Message, Struct, Xml

__all__ = [
    "DEFAULT_EDITION",
    "MESSAGE_TYPES",
    "NAMESPACES",
    "Codec",
    "DecodeError",
    "EncodeError",
    "decode",
    "edition_of",
    "encode",
]

#: ECMA-323 namespaces by edition. Edition 2 was published under ecma.ch.
NAMESPACES: Final[dict[int, str]] = {
    2: "http://www.ecma.ch/standards/ecma-323/csta/ed2",
    3: "http://www.ecma-international.org/standards/ecma-323/csta/ed3",
    4: "http://www.ecma-international.org/standards/ecma-323/csta/ed4",
    5: "http://www.ecma-international.org/standards/ecma-323/csta/ed5",
    6: "http://www.ecma-international.org/standards/ecma-323/csta/ed6",
}
DEFAULT_EDITION: Final = 4
_EDITION_BY_NAMESPACE: Final = {ns: ed for ed, ns in NAMESPACES.items()}
_KNOWN_NAMESPACES: Final = (*NAMESPACES.values(), m.ECMA354_NAMESPACE)


def edition_of(namespace: str) -> int | None:
    """The ECMA-323 edition of a namespace URI, or None when it is not one."""
    return _EDITION_BY_NAMESPACE.get(namespace.rstrip("/"))


class DecodeError(ValueError):
    """A body that cannot become a message. ``kind`` is one of ``hostile_xml``,
    ``malformed_xml``, ``unknown_message``, ``invalid_message``."""

    def __init__(self, kind: str, detail: str, element: str | None = None) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail
        self.element = element


class EncodeError(ValueError):
    """A message that cannot be written as XML (text with characters XML forbids)."""


# ---------------------------------------------------------------------------
# Schema compilation
# ---------------------------------------------------------------------------

Reader = Callable[[Element, "_Field"], Any]
Writer = Callable[[list[str], str, Any, "_Field"], None]


class _Field:
    """One field of a message or struct, with everything the codec needs precomputed."""

    __slots__ = (
        "attr",
        "inline",
        "item",
        "kind",
        "leaf",
        "path",
        "plain",
        "prefix",
        "raw",
        "read",
        "required",
        "sub",
        "wrapped",
        "write",
    )

    def __init__(self, attr: str, path: tuple[str, ...], kind: str, required: bool) -> None:
        self.attr = attr
        self.path = path
        self.prefix = path[:-1]
        self.leaf = path[-1]
        self.kind = kind
        self.required = required
        self.item = ""
        self.sub: _Spec | None = None
        self.wrapped = False
        self.raw = False
        self.inline = False
        self.read: Reader = _read_id
        self.write: Writer = _write_text
        self.plain = False  # a whitespace-stripped identifier, read inline by _fill


Trie = dict[str, Union[_Field, "Trie"]]

#: A decode plan: element tag -> step ``(code, attribute, extra)``. Codes: 0 an
#: identifier (``extra`` unused), 1 a device identifier, 2 a wrapper element whose
#: children are read with the plan ``extra``, 3 any other value (``extra`` is the
#: :class:`_Field`, whose reader is called). Built once per class from the trie.
Step = tuple[int, str, Any]
Plan = dict[str, Step]


class _Spec:
    """Compiled layout of one message or struct class."""

    __slots__ = ("cls", "element", "fields", "inline", "namespace", "plan", "required", "trie")

    def __init__(self, cls: type[Any], element: str, fields: list[_Field]) -> None:
        self.cls = cls
        self.element = element
        # Schema order, except that extensions (private data) always close the element.
        self.fields = tuple(
            [f for f in fields if f.kind != "private"] + [f for f in fields if f.kind == "private"]
        )
        self.required = tuple(f.attr for f in fields if f.required)
        self.inline = next((f for f in fields if f.inline), None)
        self.namespace: str | None = getattr(cls, "NAMESPACE", None)
        self.trie: Trie = {}
        self.plan: Plan = {}


def _xml_name(attr: str) -> str:
    """``monitor_cross_ref_id`` -> ``monitorCrossRefID`` (ECMA-323 capitalises ID)."""
    head, *rest = attr.split("_")
    return head + "".join("ID" if part == "id" else part.capitalize() for part in rest)


def _merge(markers: Iterable[Xml]) -> Xml:
    merged = Xml()
    for marker in markers:
        changes = {
            f.name: getattr(marker, f.name)
            for f in dataclasses.fields(Xml)
            if getattr(marker, f.name) != f.default
        }
        merged = dataclasses.replace(merged, **changes)
    return merged


def _unwrap(hint: Any) -> tuple[Any, list[Xml]]:
    """Strip ``Annotated`` and ``| None`` layers, collecting :class:`Xml` markers."""
    markers: list[Xml] = []
    while True:
        if typing.get_origin(hint) is Annotated:
            markers.extend(x for x in hint.__metadata__ if isinstance(x, Xml))
            hint = hint.__origin__
            continue
        origin = typing.get_origin(hint)
        if origin is Union or origin is types.UnionType:
            args = [a for a in typing.get_args(hint) if a is not type(None)]
            if len(args) != 1:
                raise TypeError(f"unsupported union {hint!r}")
            hint = args[0]
            continue
        return hint, markers


_SPECS: dict[type[Any], _Spec] = {}


def _compile(cls: type[Any]) -> _Spec:
    spec = _SPECS.get(cls)
    if spec is not None:
        return spec
    hints = typing.get_type_hints(cls, include_extras=True)
    fields: list[_Field] = []
    trie: Trie = {}
    for dc_field in dataclasses.fields(cls):
        hint, markers = _unwrap(hints[dc_field.name])
        xml = _merge(markers)
        required = (
            dc_field.default is dataclasses.MISSING
            and dc_field.default_factory is dataclasses.MISSING
        )
        if dc_field.name == "private_data":
            field = _Field(
                dc_field.name, ("extensions", "privateData", "private"), "private", False
            )
            field.read, field.write = _read_private, _write_private
            xml = Xml()
        else:
            path = tuple((xml.name or _xml_name(dc_field.name)).split("/"))
            field = _Field(dc_field.name, path, "", required)
            _assign_kind(field, hint, xml)
        fields.append(field)
        if field.inline:
            continue
        for path in (field.path, *(tuple(a.split("/")) for a in xml.aliases)):
            _insert(trie, path, field)
    element = getattr(cls, "ELEMENT", "") or cls.__name__
    spec = _Spec(cls, element, fields)
    spec.trie = _qualify(trie, _KNOWN_NAMESPACES)
    spec.plan = _plan(spec.trie, {})
    _SPECS[cls] = spec
    return spec


def _qualify(trie: Trie, namespaces: Iterable[str]) -> Trie:
    """Add ``{namespace}name`` keys next to every local ``name`` key (recursively)."""
    out: Trie = {}
    for name, entry in trie.items():
        value = _qualify(entry, namespaces) if isinstance(entry, dict) else entry
        out[name] = value
        for namespace in namespaces:
            out[f"{{{namespace}}}{name}"] = value
    return out


def _plan(trie: Trie, done: dict[int, Plan]) -> Plan:
    """The decode plan of a (qualified) trie; shared sub-tries give shared sub-plans."""
    plan = done.get(id(trie))
    if plan is not None:
        return plan
    plan = done[id(trie)] = {}
    for name, entry in trie.items():
        if isinstance(entry, dict):
            plan[name] = (2, "", _plan(entry, done))
        elif entry.plain:
            plan[name] = (0, entry.attr, None)
        elif entry.kind == "device":
            plan[name] = (1, entry.attr, None)
        else:
            plan[name] = (3, entry.attr, entry)
    return plan


def _insert(trie: Trie, path: tuple[str, ...], field: _Field) -> None:
    node = trie
    for name in path[:-1]:
        child = node.setdefault(name, {})
        if not isinstance(child, dict):
            raise TypeError(f"path {path} collides with field {child.attr}")
        node = child
    node[path[-1]] = field


def _assign_kind(field: _Field, hint: Any, xml: Xml) -> None:
    field.wrapped, field.raw, field.inline = xml.wrapped, xml.raw, xml.inline
    if hint is str:
        field.kind = "text" if xml.raw else "id"
        field.plain = not xml.raw
        field.read = _read_text if xml.raw else _read_id
        field.write = _write_text
    elif hint is bool:
        field.kind, field.read, field.write = "bool", _read_bool, _write_bool
    elif hint is int:
        field.kind, field.read, field.write = "int", _read_int, _write_int
    elif hint is DeviceID:
        field.kind, field.read = "device", _read_device
        field.write = _write_wrapped_device if xml.wrapped else _write_device
    elif hint is ConnectionID:
        field.kind, field.read, field.write = "connection", _read_connection, _write_connection
    elif hint is Failure:
        field.kind, field.read = "failure", _read_failure
        field.write = _write_inline_failure if xml.inline else _write_failure
    elif isinstance(hint, type) and issubclass(hint, Struct):
        field.kind, field.read, field.write = "struct", _read_struct, _write_struct
        field.sub = _compile(hint)
    elif typing.get_origin(hint) is tuple:
        (item_hint, _ellipsis) = typing.get_args(hint)
        if xml.flags:
            field.kind, field.read, field.write = "flags", _read_flags, _write_flags
        elif item_hint is str:
            field.kind, field.read, field.write = "list", _read_list, _write_list
            field.item = xml.item or "item"
        elif isinstance(item_hint, type) and issubclass(item_hint, Struct):
            field.kind, field.read, field.write = "list", _read_list, _write_list
            field.item = xml.item or _xml_name(item_hint.__name__)
            field.sub = _compile(item_hint)
        else:
            raise TypeError(f"unsupported list item {item_hint!r} in {field.attr}")
    else:
        raise TypeError(f"unsupported field type {hint!r} for {field.attr}")


# ---------------------------------------------------------------------------
# Readers: Element -> value. Only ValueError/TypeError escape; decode() wraps them.
# ---------------------------------------------------------------------------


_LOCAL_NAMES: dict[str, str] = {}


def _local(tag: str) -> str:
    """Local part of a ``{namespace}local`` tag (memoised: tags repeat endlessly)."""
    name = _LOCAL_NAMES.get(tag)
    if name is None:
        name = tag[tag.find("}") + 1 :] if tag[0] == "{" else tag
        if len(_LOCAL_NAMES) < 4096:  # bounded: hostile peers may invent tags
            _LOCAL_NAMES[tag] = name
    return name


def _read_id(elem: Element, field: _Field) -> str:
    text = elem.text
    return text.strip() if text else ""


def _read_text(elem: Element, field: _Field) -> str:
    return elem.text or ""


def _read_int(elem: Element, field: _Field) -> int:
    text = (elem.text or "").strip()
    if not text or len(text) > 20 or not text.lstrip("+-").isdigit() or not text.isascii():
        raise ValueError(f"{_local(elem.tag)}: not an integer: {text[:40]!r}")
    return int(text)


_TRUE: Final = frozenset({"true", "1", "yes"})
_FALSE: Final = frozenset({"false", "0", "no"})


def _read_bool(elem: Element, field: _Field) -> bool:
    text = (elem.text or "").strip().lower()
    if text in _TRUE or (not text and field.kind == "flags"):
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{_local(elem.tag)}: not a boolean: {text[:40]!r}")


_DEVICES: dict[tuple[str, str | None, str], DeviceID] = {}


def _device(value: str, type_of_number: str | None, kind: str) -> DeviceID:
    """Interned DeviceID: a center's devices recur in every event, and an immutable
    value can be shared; the cache is bounded against identifier floods."""
    key = (value, type_of_number, kind)
    device = _DEVICES.get(key)
    if device is None:
        device = DeviceID(value, type_of_number, kind)
        if len(_DEVICES) >= 8192:
            _DEVICES.clear()
        _DEVICES[key] = device
    return device


def _read_device(elem: Element, field: _Field) -> DeviceID:
    # Plain form <x typeOfNumber="..">301</x>, or wrapped <x><deviceIdentifier>..</..></x>
    # (also <x><notKnown/></x>); both are accepted whatever the schema says.
    if len(elem):
        elem = elem[0]
        kind = _local(elem.tag)
    else:
        kind = "deviceIdentifier"
    text = elem.text
    key = (text.strip() if text else "", elem.get("typeOfNumber"), kind)
    device = _DEVICES.get(key)
    if device is None:
        device = _device(*key)
    return device


def _read_connection(elem: Element, field: _Field) -> ConnectionID:
    call_id: str | None = None
    device_id: DeviceID | None = None
    for child in elem:
        name = _local(child.tag)
        if name == "callID":
            text = child.text
            call_id = text.strip() if text else ""
        elif name in ("deviceID", "staticID", "dynamicID"):
            device_id = _read_device(child, field)
    return ConnectionID(call_id, device_id)


def _read_failure(elem: Element, field: _Field) -> Failure:
    for child in elem:
        return _failure_from(child)
    raise ValueError(f"{_local(elem.tag)}: empty error value")


_CATEGORY_ALIASES: Final = {"systemResourceAvailability": "systemResourceAvailibility"}


def _failure_from(elem: Element) -> Failure:
    name = _local(elem.tag)
    text = elem.text
    return Failure(_CATEGORY_ALIASES.get(name, name), text.strip() if text else "")


def _read_struct(elem: Element, field: _Field) -> Any:
    assert field.sub is not None
    return _build(field.sub, elem)


def _read_list(elem: Element, field: _Field) -> tuple[Any, ...]:
    item, sub = field.item, field.sub
    out: list[Any] = []
    for child in elem:
        if _local(child.tag) != item:
            continue
        if sub is None:
            text = child.text
            out.append(text.strip() if text else "")
        else:
            out.append(_build(sub, child))
    return tuple(out)


def _read_flags(elem: Element, field: _Field) -> tuple[str, ...]:
    return tuple(_local(c.tag) for c in elem if _read_bool(c, field))


def _read_private(elem: Element, field: _Field) -> tuple[tuple[str, str], ...]:
    # Vendor private data: keep every leaf element as (local name, text), in order.
    return tuple(
        (_local(leaf.tag), leaf.text or "")
        for leaf in elem.iter()
        if leaf is not elem and not len(leaf) and isinstance(leaf.tag, str)
    )


def _fill(elem: Element, plan: Plan, out: dict[str, Any]) -> None:
    # ``plan`` is keyed by local name and, for the usual namespaces, by the full
    # ``{namespace}local`` tag too, so the common case is a single dict lookup.
    # Identifiers and device identifiers (nearly every field) are read inline, as
    # _read_id and _read_device would: this loop is the hot path.
    for child in elem:
        tag = child.tag
        step = plan.get(tag)
        if step is None:
            if tag[0] != "{":
                continue
            step = plan.get(tag[tag.find("}") + 1 :])
            if step is None:
                continue  # unknown element: ignored, by design
        code, attr, extra = step
        if code == 0:
            text = child.text
            out[attr] = text.strip() if text else ""
        elif code == 1:
            if len(child):
                inner = child[0]
                tag = inner.tag
                kind = _LOCAL_NAMES.get(tag) or _local(tag)
            else:
                inner = child
                kind = "deviceIdentifier"
            text = inner.text
            key = (text.strip() if text else "", inner.get("typeOfNumber"), kind)
            out[attr] = _DEVICES.get(key) or _device(*key)
        elif code == 2:
            _fill(child, extra, out)
        else:
            out[attr] = extra.read(child, extra)


def _build(spec: _Spec, elem: Element) -> Any:
    values: dict[str, Any] = {}
    _fill(elem, spec.plan, values)
    inline = spec.inline
    if inline is not None and inline.attr not in values:
        # A CSTAErrorCode: the first element child is the category (any vendor's).
        for child in elem:
            if _local(child.tag) != "extensions":
                values[inline.attr] = _failure_from(child)
                break
    for attr in spec.required:
        if attr not in values:
            raise ValueError(f"{spec.element}: missing {attr}")
    return spec.cls(**values)


# ---------------------------------------------------------------------------
# Writers: value -> XML text appended to a list of parts.
# ---------------------------------------------------------------------------

# Characters that need escaping in text, plus those XML 1.0 cannot carry at all.
_SPECIAL: Final = re.compile('[&<>"\r\n\t\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]')
_TEXT_SPECIAL: Final = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FORBIDDEN: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _escape(text: str) -> str:
    if _TEXT_SPECIAL.search(text) is None:
        return text
    if _FORBIDDEN.search(text) is not None:
        raise EncodeError(f"text contains characters XML cannot carry: {text[:40]!r}")
    # \r is escaped because parsers normalise a literal CR to LF.
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _escape_attr(text: str) -> str:
    if _SPECIAL.search(text) is None:
        return text
    return _escape(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def _write_text(parts: list[str], name: str, value: Any, field: _Field) -> None:
    parts.append(f"<{name}>{_escape(value)}</{name}>")


def _write_int(parts: list[str], name: str, value: Any, field: _Field) -> None:
    parts.append(f"<{name}>{int(value)}</{name}>")


def _write_bool(parts: list[str], name: str, value: Any, field: _Field) -> None:
    parts.append(f"<{name}>true</{name}>" if value else f"<{name}>false</{name}>")


def _ton(device: DeviceID) -> str:
    ton = device.type_of_number
    return "" if ton is None else f' typeOfNumber="{_escape_attr(ton)}"'


def _write_device(parts: list[str], name: str, value: Any, field: _Field) -> None:
    parts.append(f"<{name}{_ton(value)}>{_escape(value.value)}</{name}>")


def _write_wrapped_device(parts: list[str], name: str, value: Any, field: _Field) -> None:
    kind = value.kind
    if not value.value and kind != "deviceIdentifier":
        parts.append(f"<{name}><{kind}/></{name}>")
    else:
        parts.append(f"<{name}><{kind}{_ton(value)}>{_escape(value.value)}</{kind}></{name}>")


def _write_connection(parts: list[str], name: str, value: Any, field: _Field) -> None:
    parts.append(f"<{name}>")
    if value.call_id is not None:
        parts.append(f"<callID>{_escape(value.call_id)}</callID>")
    device = value.device_id
    if device is not None:
        parts.append(f"<deviceID{_ton(device)}>{_escape(device.value)}</deviceID>")
    parts.append(f"</{name}>")


def _write_inline_failure(parts: list[str], name: str, value: Any, field: _Field) -> None:
    category = value.category
    parts.append(f"<{category}>{_escape(value.value)}</{category}>")


def _write_failure(parts: list[str], name: str, value: Any, field: _Field) -> None:
    parts.append(f"<{name}>")
    _write_inline_failure(parts, name, value, field)
    parts.append(f"</{name}>")


def _write_struct(parts: list[str], name: str, value: Any, field: _Field) -> None:
    assert field.sub is not None
    parts.append(f"<{name}>")
    _write_fields(parts, field.sub, value)
    parts.append(f"</{name}>")


def _write_list(parts: list[str], name: str, value: Any, field: _Field) -> None:
    item, sub = field.item, field.sub
    parts.append(f"<{name}>")
    for entry in value:
        if sub is None:
            parts.append(f"<{item}>{_escape(entry)}</{item}>")
        else:
            parts.append(f"<{item}>")
            _write_fields(parts, sub, entry)
            parts.append(f"</{item}>")
    parts.append(f"</{name}>")


def _write_flags(parts: list[str], name: str, value: Any, field: _Field) -> None:
    parts.append(f"<{name}>")
    parts.extend(f"<{flag}>true</{flag}>" for flag in value)
    parts.append(f"</{name}>")


def _write_private(parts: list[str], name: str, value: Any, field: _Field) -> None:
    parts.append(f"<{name}>")
    parts.extend(f"<{key}>{_escape(text)}</{key}>" for key, text in value)
    parts.append(f"</{name}>")


_EMPTY_SKIPPED: Final = frozenset({"list", "flags", "private"})


def _write_fields(parts: list[str], spec: _Spec, value: Any) -> None:
    opened: tuple[str, ...] = ()
    for field in spec.fields:
        item = getattr(value, field.attr)
        if item is None or (not item and field.kind in _EMPTY_SKIPPED):
            continue
        prefix = field.prefix
        if prefix != opened:
            # Close wrappers this field does not share, open the ones it needs:
            # consecutive fields under one wrapper element share it.
            common = 0
            while (
                common < len(opened) and common < len(prefix) and opened[common] == prefix[common]
            ):
                common += 1
            parts.extend(f"</{tag}>" for tag in reversed(opened[common:]))
            parts.extend(f"<{tag}>" for tag in prefix[common:])
            opened = prefix
        field.write(parts, field.leaf, item, field)
    parts.extend(f"</{tag}>" for tag in reversed(opened))


# ---------------------------------------------------------------------------
# The message table and the public codec
# ---------------------------------------------------------------------------


def _message_classes() -> list[type[Message]]:
    found: list[type[Message]] = []
    for name in m.__all__:
        obj = getattr(m, name)
        if (
            isinstance(obj, type)
            and issubclass(obj, Message)
            and obj not in (Message, m.Request, m.Response, m.Event)
        ):
            found.append(obj)
    return found


#: Element name (and accepted aliases) -> message class. The whole vocabulary.
MESSAGE_TYPES: Final[dict[str, type[Message]]] = {}
for _cls in _message_classes():
    _spec = _compile(_cls)
    for _name in (_spec.element, *_cls.ALIASES):
        MESSAGE_TYPES[_name] = _cls

_ENCODING_DECL: Final = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._\-]{1,40})["']""")
_XML_DECLARATION: Final = '<?xml version="1.0" encoding="UTF-8"?>'
_XML_DECLARATION_BYTES: Final = _XML_DECLARATION.encode()
_DECLARATION_SIZE: Final = len(_XML_DECLARATION_BYTES)


_UTF8_DECLARATION: Final = re.compile(
    rb"""<\?xml[^>]*?\sencoding\s*=\s*["'](?:utf-?8|us-ascii|ascii)["']""", re.IGNORECASE
)


def _parser_input(body: bytes) -> bytes | str:
    """What to give expat, after refusing any document type declaration.

    Fast path for what peers actually send, UTF-8 starting with ``<``: expat reads
    such bytes as UTF-8 (it changes encoding only for a byte-order mark, a UTF-16
    NUL pattern, or a declared encoding, all excluded here), so a byte search sees
    exactly what the parser will see. Anything else is decoded by us first.
    """
    if body[:1] != b"<" or body[1:2] == b"\x00":
        return _body_text(body)
    if body.startswith(b"<?xml") and not body.startswith(_XML_DECLARATION_BYTES):
        end = body.find(b"?>", 0, 200)
        declaration = body[:end]
        if end == -1 or (
            b"encoding" in declaration and _UTF8_DECLARATION.match(declaration) is None
        ):
            return _body_text(body)
    if b"!" in body and b"<!" in body and (b"<!DOCTYPE" in body or b"<!ENTITY" in body):
        raise DecodeError("hostile_xml", "document type declarations are refused")
    return body


def _body_text(body: bytes) -> str:
    """Decode a body to text ourselves, so that what is checked is what is parsed."""
    encoding = "utf-8"
    if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"
    else:
        head = body[:200]
        if b"<?xml" in head:
            match = _ENCODING_DECL.search(head)
            if match is not None:
                encoding = match.group(1).decode("ascii")
    try:
        text = body.decode(encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise DecodeError("malformed_xml", f"cannot decode body as {encoding}: {exc}") from None
    text = text.lstrip("\ufeff \t\r\n")
    if text.startswith("<?xml"):
        end = text.find("?>")
        if end == -1:
            raise DecodeError("malformed_xml", "unterminated XML declaration")
        text = text[end + 2 :]
    if "<!" in text and ("<!DOCTYPE" in text or "<!ENTITY" in text):
        raise DecodeError("hostile_xml", "document type declarations are refused")
    return text


# ---------------------------------------------------------------------------
# Parsing: a reused expat stream, with a fresh parser as the reference
# ---------------------------------------------------------------------------

#: A declaration expat certainly accepts, UTF-8 or silent about the encoding: a body
#: starting with one may be streamed with the declaration cut off.
_PLAIN_DECLARATION: Final = re.compile(
    rb"""<\?xml version=(["'])1\.0\1(?: encoding=(["'])(?i:utf-8)\2)?"""
    rb"""(?: standalone=(["'])(?:yes|no)\3)? ?\?>"""
)
_XML_SPACE: Final = b" \t\r\n"
#: A root start tag that is just a name and the default namespace of a CSTA edition or
#: of ECMA-354. That declaration is cut before parsing: the decoder matches elements
#: by local name, so only the tags change, and they get shorter and cheaper to make.
#: The declaration is its tag's only attribute and a standard URI, so the cut cannot
#: turn an invalid document valid or a valid one invalid.
_BARE_ROOT: Final = re.compile(
    rb'<[A-Za-z][A-Za-z0-9]{0,63}( xmlns="(?:'
    + b"|".join(re.escape(ns.encode()) for ns in _KNOWN_NAMESPACES)
    + rb')")/?>'
)
#: Root start tag -> the same without its namespace declaration, or b"" to keep it.
_BARE_ROOTS: dict[bytes, bytes] = {}


def _bare_root(tag: bytes) -> bytes:
    match = _BARE_ROOT.fullmatch(tag)
    bare = tag[: match.start(1)] + tag[match.end(1) :] if match else b""
    if len(_BARE_ROOTS) >= 1024:  # bounded: hostile peers may invent tags
        _BARE_ROOTS.clear()
    _BARE_ROOTS[tag] = bare
    return bare


_SENTINEL: Final = b"<end/>"
#: Bytes one stream parses before it is replaced: expat and the tag cache keep every
#: distinct name they have seen, so a stream must not live for ever.
_STREAM_BUDGET: Final = 1 << 20


class _Stream:
    """One expat parser (the C ``xml.etree`` one) reused for many bodies.

    Creating an ``XMLParser`` costs about as much as parsing a typical event, and a
    new parser also makes every tag a new string to hash. So bodies are fed, one
    after another, into a single open ``<stream>`` element, each followed by a
    sentinel ``<end/>``. A body is vouched for only when it is, by itself, a document
    a fresh parser would build into the same tree:

    * the parser raised nothing;
    * after the body, the stream holds exactly one new element: one root was opened;
    * after the sentinel, it holds two: the root was closed, and the sentinel
      (which the body cannot forge: it started no second element) is a sibling;
    * no text (character data, CDATA, character references) lies before or after
      the root; comments and processing instructions, which a document may have
      there too, are dropped as a fresh parse drops them.

    The body has passed the DTD screen, carries no declaration (a plain one is cut
    off) and declares its namespaces on its own elements, so it sees exactly the
    parser state of a new document. Anything else, valid or not, is left to a
    fresh parser, whose verdict and error message are the reference, and the
    stream is dropped.
    """

    __slots__ = ("budget", "parser", "sentinel", "wrapper")

    def __init__(self) -> None:
        builder = TreeBuilder()
        outer = builder.start("streams", {})
        self.parser = XMLParser(target=builder)
        self.parser.feed(b"<stream>")
        self.wrapper = outer[0]
        self.parser.feed(_SENTINEL)
        self.sentinel = self.wrapper[0]
        del self.wrapper[:]
        self.budget = _STREAM_BUDGET

    def parse(self, data: bytes) -> Element | None:
        """The root element of ``data``, or None (then drop this stream)."""
        wrapper, feed = self.wrapper, self.parser.feed
        feed(data)
        if len(wrapper) != 1:
            return None
        feed(_SENTINEL)
        if len(wrapper) != 2:
            return None
        root, sentinel = wrapper
        del wrapper[:]
        if self.sentinel.tail is not None or root.tail is not None:
            return None
        self.sentinel = sentinel
        self.budget -= len(data)
        return root


#: Idle streams. ``list.pop`` and ``append`` are atomic, so each stream serves one
#: decode at a time even when threads share a codec; a miss just makes a new one.
_STREAMS: list[_Stream] = []


def _parse_fresh(data: bytes | str) -> Element:
    parser = XMLParser()
    try:
        parser.feed(data)
        root: Element = parser.close()
    except ParseError as exc:
        raise DecodeError("malformed_xml", str(exc)) from None
    return root


def _parse(body: bytes) -> Element:
    """The root element of ``body``; raises only :class:`DecodeError`."""
    start = 0
    if body.startswith(_XML_DECLARATION_BYTES):
        # The screen of _parser_input. ``!`` is rare in CSTA traffic, and a single-byte
        # search is several times faster than the search for ``<!``.
        if b"!" in body and b"<!" in body and (b"<!DOCTYPE" in body or b"<!ENTITY" in body):
            raise DecodeError("hostile_xml", "document type declarations are refused")
        start = _DECLARATION_SIZE
    else:
        checked = _parser_input(body)
        if checked is not body:
            return _parse_fresh(checked)
        if body[1:2] == b"?":
            match = _PLAIN_DECLARATION.match(body)
            if match is None:
                return _parse_fresh(body)
            start = match.end()
    # What the stream is fed: the body after its declaration, without the whitespace
    # around the root (where a document may have it but the stream may not) and, for
    # the usual root start tags, without the namespace declaration (see _BARE_ROOT).
    data = body
    if body[start : start + 1] != b"<":
        data = body[start:].lstrip(_XML_SPACE)
        start = 0
    end = data.find(b">", start, start + 160) + 1
    bare = _BARE_ROOTS.get(data[start:end])
    if bare is None:
        bare = _bare_root(data[start:end])
    if bare:
        data = bare + data[end:]
    elif start:
        data = data[start:]
    if data[-1:] != b">":
        data = data.rstrip(_XML_SPACE)
    try:
        stream = _STREAMS.pop()
    except IndexError:
        stream = _Stream()
    try:
        root = stream.parse(data)
    except ParseError:
        root = None
    if root is None:
        return _parse_fresh(body)
    if stream.budget > 0:
        _STREAMS.append(stream)
    return root


class Codec:
    """Encode and decode message bodies; ``edition`` (2-6) selects the namespace emitted.

    >>> codec = Codec(edition=3)
    >>> codec.encode(m.MonitorStopResponse())[-90:]
    b'<MonitorStopResponse xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed3"/>'
    """

    __slots__ = ("_declaration", "edition", "namespace")

    def __init__(self, edition: int = DEFAULT_EDITION, *, declaration: bool = True) -> None:
        if edition not in NAMESPACES:
            raise ValueError(f"unknown ECMA-323 edition {edition!r}; known: {sorted(NAMESPACES)}")
        self.edition = edition
        self.namespace = NAMESPACES[edition]
        self._declaration = _XML_DECLARATION if declaration else ""

    def encode(self, message: Message) -> bytes:
        """The UTF-8 XML body of ``message`` (no framing header)."""
        spec = _SPECS.get(type(message))
        if spec is None:
            raise EncodeError(f"not a CSTA message: {type(message).__name__}")
        element = spec.element
        namespace = spec.namespace or self.namespace
        parts = [self._declaration, f'<{element} xmlns="{namespace}">']
        _write_fields(parts, spec, message)
        if len(parts) == 2:
            parts[1] = f'<{element} xmlns="{namespace}"/>'
        else:
            parts.append(f"</{element}>")
        return "".join(parts).encode("utf-8")

    def decode(self, body: bytes) -> Message:
        """Parse one body into a message; raises only :class:`DecodeError`."""
        root = _parse(body)
        element = _local(root.tag)
        cls = MESSAGE_TYPES.get(element)
        if cls is None:
            raise DecodeError("unknown_message", f"no message named {element[:80]!r}", element)
        try:
            message: Message = _build(_SPECS[cls], root)
        except (ValueError, TypeError) as exc:
            raise DecodeError("invalid_message", str(exc), element) from None
        return message


_DEFAULT_CODEC: Final = Codec()


def encode(message: Message, edition: int = DEFAULT_EDITION) -> bytes:
    """Encode with a default codec (see :class:`Codec`)."""
    codec = _DEFAULT_CODEC if edition == DEFAULT_EDITION else Codec(edition)
    return codec.encode(message)


def decode(body: bytes) -> Message:
    """Decode any edition's body (see :meth:`Codec.decode`)."""
    return _DEFAULT_CODEC.decode(body)
