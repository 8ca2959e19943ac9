"""One safe way to read every YAML and JSON file dnsops reads.

Zone files, dnsops.yaml, octoDNS configs, policies and drills (YAML) and the state
files (saved plans, the lock, the drill journal, the audit log: JSON) all come through
here, so a hostile or damaged file gets the same treatment everywhere: a
``file:line: what is wrong`` message (:class:`~dnsops.errors.InputError`), never a
traceback, a hang, or data silently lost.

What is checked, before anything is built from the file:

* it is a regular file that can be read, of at most :data:`MAX_BYTES`;
* it is UTF-8 (the line and column of the first byte that is not);
* YAML: no control characters; mappings and sequences nested at most
  :data:`MAX_DEPTH` deep (aliases counted as the copies they stand for); aliases add
  at most :data:`MAX_ALIAS_NODES` nodes and :data:`MAX_ALIAS_CHARS` characters when
  expanded, measured on the node graph without expanding it; no alias that contains
  itself; no key twice in one mapping, at any level (both lines are named);
  ``!include`` stays inside the including file's root (the zones directory), never
  includes a file that is being included (a cycle), names an existing regular file,
  at most :data:`MAX_INCLUDES` times per file loaded;
* JSON: the same depth and duplicate-key rules; no NaN/Infinity; numbers of at most
  4300 digits (Python's limit);
* no file holds the value of a secret the process knows (:mod:`dnsops.scrub`): the
  line is named, the secret by its name only.

YAML keeps octoDNS's loader semantics: the loader classes are octoDNS's own (or
:class:`_KeyLineLoader` for dnsops's files) with their constructors, ``ContextDict``
contexts and key-order checks; only the parser underneath is libyaml's C one (about 4x
faster on large zones), with a pure-Python parse again on a syntax error so the
message is worded exactly as octoDNS words it. A zone file without a ``&`` (surely a
tree) is built by :class:`_TreeBuilder`, which gives what those loaders give, runs the
checks above as it goes (one walk over the nodes) and releases each record's nodes once
built; it hands anything unusual back to the loaders. The garbage collector is paused
while a file is loaded (:func:`gc_paused`).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import inspect
import io
import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml
from octodns.context import ContextDict
from octodns.yaml import ContextLoader, SortEnforcingLoader
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from dnsops import scrub
from dnsops.errors import ConfigError, InputError

MAX_BYTES = 64 * 1024 * 1024  # a 100k-record zone is about 7 MiB
MAX_DEPTH = 64  # nesting of mappings/sequences (a zone file needs 5)
MAX_ALIAS_NODES = 100_000  # nodes aliases may add when expanded, per file loaded
MAX_ALIAS_CHARS = 1_000_000  # characters of scalars aliases may add when expanded
MAX_INCLUDES = 100  # !include per file loaded (its includes' includes counted)
MAX_DIGITS = 4300  # Python's int() refuses longer numbers (sys.get_int_max_str_digits)

_CONTEXT = re.compile(r"^(?P<file>.*), line (?P<line>\d+), column \d+$")
# what YAML allows in a stream (YAML 1.1 "printable"; PyYAML's and libyaml's check)
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_MERGE = "tag:yaml.org,2002:merge"
_VALUE = "tag:yaml.org,2002:value"
_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_INCLUDE = "!include"
# what may be an anchor (``&name``); a document with none is a tree (no alias)
_ANCHOR = re.compile(rb"(?:^|(?<=[\s\[{,:?\-]))&[^\s\[\]{},]")


# -- reading ------------------------------------------------------------------


def shown_path(file: str | Path) -> str:
    """A path as messages show it: relative to the working directory when below it."""
    return _relative_to(str(file), os.getcwd())


@functools.lru_cache(maxsize=256)
def _relative_to(file: str, cwd: str) -> str:
    try:
        return str(Path(file).resolve().relative_to(cwd))
    except (ValueError, OSError, RuntimeError):
        return file


def read_bytes(path: Path | str, shown: str, what: str) -> bytes:
    """The bytes of a regular file, or an InputError saying why not (never blocks on a
    FIFO, never reads a device or more than :data:`MAX_BYTES`)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise InputError(shown, None, f"{what} file not found") from None
    except IsADirectoryError:
        raise InputError(shown, None, f"is a directory, expected a {what} file") from None
    except PermissionError:
        raise InputError(shown, None, f"cannot read {what} file: permission denied") from None
    except OSError as exc:
        raise InputError(shown, None, f"cannot read {what} file: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise InputError(shown, None, f"is a directory, expected a {what} file")
        if not stat.S_ISREG(st.st_mode):
            raise InputError(shown, None, f"is not a regular file, expected a {what} file")
        if st.st_size > MAX_BYTES:
            raise InputError(
                shown,
                None,
                f"{what} file of {st.st_size / 2**20:.0f} MiB: dnsops reads at most "
                f"{MAX_BYTES // 2**20} MiB",
            )
        chunks = []
        size = 0
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_BYTES:
                raise InputError(shown, None, f"{what} file larger than {MAX_BYTES // 2**20} MiB")
        return b"".join(chunks)
    except InputError:
        raise
    except OSError as exc:
        raise InputError(shown, None, f"cannot read {what} file: {exc.strerror}") from None
    finally:
        os.close(fd)


def decode(data: bytes, shown: str, first_line: int = 1) -> str:
    """UTF-8 text, or an InputError at the line and column of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + first_line
        column = len(data[start : exc.start].decode("utf-8", "replace")) + 1
        raise InputError(
            shown, line, f"not UTF-8: byte 0x{data[exc.start]:02x} ({exc.reason})", column=column
        ) from None


def _line_column(text: str, pos: int) -> tuple[int, int]:
    return text.count("\n", 0, pos) + 1, pos - (text.rfind("\n", 0, pos) + 1) + 1


def check_secrets(text: str, shown: str, first_line: int = 1) -> None:
    """:raises InputError: ``text`` holds a known secret (the line, the secret's name)."""
    found = scrub.found_in(text)
    if found is not None:
        name, at = found
        raise InputError(shown, text.count("\n", 0, at) + first_line, scrub.problem(name))


# -- YAML: dnsops's own files ---------------------------------------------------


def load_yaml(path: Path, *, what: str = "config") -> Any:
    """Parse ``path`` safely; every problem is a ConfigError naming file:line.

    ``!include`` is confined to the file's own directory.
    """
    shown = str(path)
    data = read_bytes(path, shown, what)
    root = os.path.realpath(path.parent)
    doc = YamlFile(str(path), shown, root, (os.path.realpath(path),), MAX_DEPTH, _Budget())
    try:
        return parse_yaml(data, doc, _KeyLineLoader)
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(describe_yaml_error(shown, exc, str(path))) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{shown}: invalid YAML: {exc}") from None


class _KeyLineLoader(ContextLoader):  # type: ignore[misc]
    """octoDNS's ContextLoader, plus the line of every key (``key_lines``)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        mapping = super().construct_mapping(node, deep)
        lines: dict[Any, int] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                lines[key_node.value] = key_node.start_mark.line + 1
        mapping.key_lines = lines
        return mapping


_KeyLineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _KeyLineLoader.construct_mapping
)


def describe_yaml_error(
    path: Path | str, exc: yaml.MarkedYAMLError, opened: str | None = None
) -> str:
    """``file:line: invalid YAML: ...``; the file is ``path``, unless the mark names
    another file than ``opened`` (an included one)."""
    mark = exc.problem_mark or exc.context_mark
    if mark is not None and opened is not None and mark.name not in (opened, "<file>"):
        path = shown_path(mark.name)
    where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
    problem = exc.problem or "invalid YAML"
    context = f" ({exc.context})" if exc.context else ""
    return f"{where}: invalid YAML: {problem}{context}"


def line_of(node: Any) -> int | None:
    """The 1-based line of a mapping loaded by load_yaml, or None."""
    ctx = getattr(node, "context", None)
    if not isinstance(ctx, str):
        return None
    m = _CONTEXT.match(ctx)
    return int(m.group("line")) if m else None


def locate(data: Any, loc: tuple[int | str, ...]) -> int | None:
    """Line of the innermost mapping on the path ``loc`` (a pydantic error loc)."""
    line = line_of(data)
    node = data
    for key in loc:
        key_line = getattr(node, "key_lines", {}).get(key)
        if key_line is not None:
            line = key_line
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
        found = line_of(node)
        if found is not None:
            line = found
    return line


def pydantic_problems(path: Path, data: Any, exc: Any) -> list[str]:
    """Render a pydantic ValidationError as 'file:line: key: message' lines."""
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        line = locate(data, loc)
        key = ".".join(str(p) for p in loc) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        where = f"{path}:{line}" if line else str(path)
        problems.append(f"{where}: {key}: {msg}")
    return problems


# -- YAML: the safe parse, for every loader class --------------------------------


@dataclass
class _Budget:
    """What one top-level load may spend, its includes included."""

    includes: int = 0
    alias_nodes: int = 0
    alias_chars: int = 0


@dataclass
class YamlFile:
    """One YAML file being loaded: names, include confinement, what is left to spend."""

    path: str  # the name its marks and contexts carry (as opened)
    shown: str  # the name messages show
    root: str | None  # realpath of the directory !include is confined to
    chain: tuple[str, ...]  # realpaths of the files being loaded (this one last)
    depth: int  # nesting levels its data may use (less when it is included)
    budget: _Budget = field(default_factory=lambda: _Budget())
    include_depth: dict[int, int] = field(default_factory=dict)  # id(!include node) -> depth


def parse_yaml(data: bytes, doc: YamlFile, base: Any, *, compose_only: bool = False) -> Any:
    """``data`` loaded with the octoDNS-style loader class ``base``, safely.

    :raises InputError: not UTF-8, control characters, too deep, an alias bomb, a
        duplicate key, a bad ``!include``.
    :raises yaml.YAMLError: a syntax error (worded as octoDNS's pure-Python loader does)
        or an error of ``base``'s constructors (key order, unhashable key...).
    """
    with gc_paused():
        try:
            return _parse_yaml(data, doc, base, compose_only, fast=True)
        except _Fallback:
            # the tree builder met what only the loader's own constructors do (or an
            # error, which they word): the whole file again, their way
            return _parse_yaml(data, doc, base, compose_only, fast=False)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused, for building a large acyclic structure.

    A 100k-record zone composes to about a million YAML nodes and then as many dicts,
    lists and strings: every full collection on the way walks all of them (about 5 s
    of 35 s of a lint) and frees nothing, as none of it is a cycle. Nested uses are fine.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _parse_yaml(data: bytes, doc: YamlFile, base: Any, compose_only: bool, fast: bool) -> Any:
    _check_text(data, doc)
    # a tree unless an anchor may be there: checked faster (and the tree walk falls back
    # on the graph walk if it meets more nodes than a tree of this size can have)
    sure = b"&" not in data  # no anchor, no alias: surely a tree
    graph = _INCLUDE.encode() in data or (not sure and _ANCHOR.search(data) is not None)
    c_cls = _c_loader(base)
    if fast and sure and not graph and not compose_only and c_cls is not None:
        pieces = _pieces(data) if c_cls.dnsops_tree is not None else None
        if pieces is not None:
            return _build_pieces(c_cls, pieces, doc)
    if c_cls is not None:
        stream: IO[Any] = io.BytesIO(data)
        stream.name = doc.path  # type: ignore[misc]
        try:
            return _run(c_cls, stream, doc, graph, compose_only, len(data), sure, fast)
        except ConstructorError:
            raise  # the loader's own constructors: the same on either parser
        except yaml.YAMLError as exc:
            c_error = exc
        # a syntax error, or nesting beyond libyaml's 1,000 levels: compose again in
        # pure Python (depth-limited), so the message is octoDNS's or ours
        stream = io.StringIO(data.decode("utf-8"))
        stream.name = doc.path
        _run(_py_loader(base), stream, doc, graph, True, len(data), sure, False)
        raise c_error  # pure Python accepted what libyaml did not: libyaml's words
    stream = io.StringIO(data.decode("utf-8"))
    stream.name = doc.path
    return _run(_py_loader(base), stream, doc, graph, compose_only, len(data), sure, fast)


def _check_text(data: bytes, doc: YamlFile) -> None:
    """UTF-8, and no character YAML refuses (the text itself is not kept: the parser
    reads the bytes)."""
    text = decode(data, doc.shown)
    check_secrets(text, doc.shown)
    bad = _NOT_PRINTABLE.search(text)
    if bad is not None:
        line, column = _line_column(text, bad.start())
        raise InputError(
            doc.shown,
            line,
            f"control character U+{ord(bad.group()):04X} is not allowed in YAML",
            column=column,
        )


# -- a large tree in pieces --------------------------------------------------------

_PIECE = 256 * 1024  # bytes of YAML composed at once when a file is loaded in pieces
# what may start a line at column 0 in a file loaded in pieces: the first character of
# a plain or quoted top-level key (a name), or a comment
_TOP_LINE = re.compile(rb"\n(?=[^\s#])")
_KEY_START = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_'\"")
# line breaks other than \n that YAML counts (CR, NEL, LS, PS): lines would be miscounted
_OTHER_BREAKS = re.compile(b"\r|\xc2\x85|\xe2\x80[\xa8\xa9]")


def _pieces(data: bytes) -> list[tuple[int, bytes]] | None:
    """A large document cut before top-level keys into pieces of about :data:`_PIECE`
    bytes, each with the number of lines before it; None to load it whole.

    A block mapping's entries at indentation 0 each start at column 0 and nothing else
    of it does, except the continuation of a quoted scalar or flow collection: a piece
    cut there does not parse (and the file is loaded whole). Cut only where every
    column-0 line of the file starts a key, a comment or an entry of a sequence that is
    a key's value (``key:`` then ``- item``, as PyYAML writes them): no document
    marker, directive, explicit key, tag, alias or flow collection at column 0.
    """
    if len(data) <= 2 * _PIECE or _OTHER_BREAKS.search(data) is not None:
        return None
    starts = []
    for m in _TOP_LINE.finditer(data):
        i = m.end()
        if data[i] in _KEY_START:
            starts.append(i)
        elif data[i : i + 2] not in (b"- ", b"-\n"):  # an indentless sequence's entry
            return None
    pieces: list[tuple[int, bytes]] = []
    begin = line = 0
    target = _PIECE
    for cut in starts:
        if cut < target:
            continue
        pieces.append((line, data[begin:cut]))
        line += data.count(b"\n", begin, cut)
        begin, target = cut, cut + _PIECE
    pieces.append((line, data[begin:]))
    return pieces if len(pieces) > 1 else None


def _build_pieces(cls: Any, pieces: list[tuple[int, bytes]], doc: YamlFile) -> Any:
    """The document of :func:`_pieces`, each piece composed and built on its own (only
    one piece's nodes in memory at once), merged into the one root mapping.

    Anything a piece cannot settle alone (it does not parse, is not a mapping, repeats a
    key of another piece) raises :class:`_Fallback`: the file is loaded whole."""
    root: Any = None
    builder: _TreeBuilder | None = None
    for offset, piece in pieces:
        stream: IO[Any] = io.BytesIO(piece)
        stream.name = doc.path  # type: ignore[misc]
        loader = cls(stream)
        loader.dnsops_file = doc
        try:
            node = loader.get_single_node()
            if node is None or node.__class__ is not MappingNode or node.tag != _MAP:
                raise _Fallback
            if builder is None:
                builder = _TreeBuilder(loader, cls.dnsops_tree, doc.depth)
            builder.loader, builder.line0 = loader, offset
            built = builder.build_root(node, check_order=False)
        except _Fallback:
            raise
        except Exception as exc:  # a piece that does not parse alone
            raise _Fallback from exc
        finally:
            loader.dispose()
        del node
        if root is None:
            root = built
            continue
        size = len(root)
        root.update(built)
        if len(root) != size + len(built):
            raise _Fallback  # a key in two pieces: the whole file's checks word it
    assert builder is not None
    try:
        builder.check_order(list(root), plain=False)
    except Exception as exc:
        raise _Fallback from exc
    return root


def _run(
    cls: Any,
    stream: IO[Any],
    doc: YamlFile,
    graph: bool,
    compose_only: bool,
    size: int,
    sure: bool,
    fast: bool,
) -> Any:
    loader = cls(stream)
    loader.dnsops_file = doc
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if fast and sure and not graph and not compose_only and cls.dnsops_tree is not None:
            # surely a tree: checked while it is built, in one pass
            return _TreeBuilder(loader, cls.dnsops_tree, doc.depth).build_root(node)
        if graph or not _check_tree(node, doc, 2 * size + 16, sure):
            _check_graph(node, doc)
        if compose_only:
            return node
        return loader.construct_document(node)
    finally:
        loader.dispose()


class _SafeLoading:
    """What dnsops adds to a loader class: confined ``!include``, depth-limited
    composition (pure-Python parser), number and timestamp errors as YAML errors."""

    dnsops_file: YamlFile
    dnsops_base: Any
    dnsops_tree: str | None = None  # how _TreeBuilder builds mappings (None: it does not)
    dnsops_depth = 0

    def construct_include(self, node: Any) -> Any:
        return _include(self, node, compose_only=False)

    def flatten_include(self, node: Any) -> Iterator[Any]:
        yield _include(self, node, compose_only=True).value

    def compose_node(self, parent: Any, index: Any) -> Any:  # pure-Python composer only
        self.dnsops_depth += 1
        try:
            if self.dnsops_depth > self.dnsops_file.depth and self.check_event(  # type: ignore[attr-defined]
                yaml.MappingStartEvent, yaml.SequenceStartEvent
            ):
                mark = self.peek_event().start_mark  # type: ignore[attr-defined]
                raise _too_deep(self.dnsops_file, mark.line + 1)
            return super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self.dnsops_depth -= 1


def _checked_scalar(construct: Callable[[Any, Any], Any], what: str) -> Callable[[Any, Any], Any]:
    def checked(self: Any, node: Any) -> Any:
        if len(node.value) > MAX_DIGITS:
            raise ConstructorError(
                None, None, f"{what} of {len(node.value)} characters is too long", node.start_mark
            )
        try:
            return construct(self, node)
        except (ValueError, OverflowError) as exc:
            raise ConstructorError(
                None, None, f"invalid {what} {node.value!r}: {exc}", node.start_mark
            ) from None

    return checked


def _make_safe(cls: Any, base: Any) -> Any:
    cls.dnsops_base = base
    cls.add_constructor(_INCLUDE, _SafeLoading.construct_include)
    # octoDNS's add_flattener would start an empty table on the subclass: copy it
    cls.yaml_flatteners = {**base.yaml_flatteners, _INCLUDE: _SafeLoading.flatten_include}
    for tag, what in (("int", "integer"), ("float", "number"), ("timestamp", "timestamp")):
        full = f"tag:yaml.org,2002:{tag}"
        cls.add_constructor(full, _checked_scalar(base.yaml_constructors[full], what))
    keygen = inspect.getattr_static(base, "KEYGEN", None)
    if isinstance(keygen, staticmethod):
        keygen = keygen.__func__
    if keygen is not None and not inspect.isfunction(keygen):
        # octoDNS's key-order check computes the natural-sort key of every key of every
        # mapping: a sixth of loading a zone, mostly for the same few keys (ttl, type,
        # value...). The same keys, remembered. (A KEYGEN written as a function in the
        # class body is a method, called with the loader: left as it is.)
        cls.KEYGEN = staticmethod(functools.lru_cache(maxsize=4096)(keygen))
    cls.__name__ = cls.__qualname__ = f"{cls.__name__}{base.__name__}"
    cls.dnsops_tree = _tree_mode(cls)
    return cls


@functools.cache
def _c_loader(base: Any) -> Any:
    """``base`` (an octoDNS loader class) on libyaml's parser, or None without libyaml."""
    try:
        from yaml._yaml import CParser
        from yaml.resolver import Resolver
    except ImportError:  # PyYAML built without libyaml
        return None

    class C(_SafeLoading, CParser, base):  # type: ignore[misc]
        def __init__(self, stream: IO[Any]) -> None:
            CParser.__init__(self, stream)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self._stream_name = getattr(stream, "name", "<file>")

        def get_mark(self) -> yaml.Mark:
            # only the name is used (by octoDNS's own !include, to resolve relative paths)
            return yaml.Mark(self._stream_name, 0, 0, 0, "", 0)

    return _make_safe(C, base)


@functools.cache
def _py_loader(base: Any) -> Any:
    """``base`` on PyYAML's pure-Python parser (depth-limited composition)."""

    class Py(_SafeLoading, base):  # type: ignore[misc]
        pass

    return _make_safe(Py, base)


# -- building a tree ---------------------------------------------------------------

_ORDER_MEMO = 4096  # key sequences whose order is memoised, per file


class _Fallback(Exception):
    """The tree builder leaves this document to the loader's own constructors."""


def _tree_mode(cls: Any) -> str | None:
    """How :class:`_TreeBuilder` builds ``cls``'s mappings, exactly as its constructors
    would: "context" (octoDNS's ContextLoader), "sorted" (its sort-enforcing loaders), or
    None when the class constructs anything its own way (then it is left to them)."""
    constructors = cls.yaml_constructors
    if constructors.get(_STR) is not SafeConstructor.construct_yaml_str:
        return None
    if constructors.get(_SEQ) is not SafeConstructor.construct_yaml_seq:
        return None
    mapping = constructors.get(_MAP)
    if mapping is ContextLoader.construct_mapping:
        return "context"
    if mapping is SortEnforcingLoader.construct_mapping:
        return "sorted"
    return None


class _TreeBuilder:
    """``construct_document`` for a document that is surely a tree (not a ``&`` in it:
    no anchor, so no alias; no ``!include``), with the same result: the same ContextDicts
    with the same contexts, lists, and scalars from the loader's own scalar constructors;
    octoDNS's key-order check, memoised per sequence of keys. It checks what
    :func:`_check_tree` would (depth, duplicate keys) on the way, so the file's nodes are
    walked once.

    Anything else (a merge key, a collection as a key, a tag it does not know), any
    error and any check that fails raise :class:`_Fallback`, and the caller loads the
    file again the loader's way, checks first: errors are worded and ordered exactly as
    before. The root mapping's entries are released as they are built: a zone's nodes
    and its data are never all in memory at once.
    """

    def __init__(self, loader: Any, mode: str, depth: int) -> None:
        self.loader = loader
        self.limit = depth  # nesting levels of collections the file may use
        self.constructors = loader.yaml_constructors
        self.keygen = loader.KEYGEN if mode == "sorted" else None
        self.ordered: dict[tuple[str, ...], bool] = {}
        self.line0 = 0  # lines before the text being built (a piece of a file)

    def build_root(self, node: Node, *, check_order: bool = True) -> Any:
        try:
            if node.__class__ is MappingNode and node.tag == _MAP:
                return self._mapping(node, 1, consume=True, check_order=check_order)
            return self._build(node, 0)
        except Exception as exc:
            raise _Fallback from exc

    def _build(self, node: Node, depth: int) -> Any:
        """``node``, a child of a collection nested ``depth`` levels deep."""
        cls = node.__class__
        if cls is ScalarNode:
            if node.tag == _STR:
                return node.value
            construct = self.constructors.get(node.tag)
            if construct is None:
                raise _Fallback
            return construct(self.loader, node)
        depth += 1
        if depth > self.limit:
            raise _Fallback  # too deep: the checks say so
        if cls is SequenceNode:
            if node.tag != _SEQ:
                raise _Fallback
            return [self._build(child, depth) for child in node.value]
        if node.tag != _MAP:
            raise _Fallback
        return self._mapping(node, depth, consume=False, check_order=True)

    def _mapping(self, node: Node, depth: int, *, consume: bool, check_order: bool) -> Any:
        mark = node.start_mark
        line = mark.line + 1 + self.line0
        mapping = ContextDict(context=f"{mark.name}, line {line}, column {mark.column + 1}")
        pairs = node.value
        plain = True  # every key a plain string: the order memo may answer
        build = self._build
        for i, (key_node, value_node) in enumerate(pairs):
            if key_node.__class__ is not ScalarNode:
                raise _Fallback
            tag = key_node.tag
            if tag == _STR:
                key = key_node.value
            elif tag in (_MERGE, _VALUE):
                raise _Fallback
            else:
                key = build(key_node, depth)
                plain = False
            mapping[key] = build(value_node, depth)
            if consume:
                pairs[i] = None  # this entry's nodes are garbage now
        if len(mapping) != len(pairs):
            raise _Fallback  # a key twice (or two keys equal once loaded: 1 and true)
        if consume:
            node.value = []
        if check_order:
            self.check_order(list(mapping), plain)
        return mapping

    def check_order(self, keys: list[Any], plain: bool) -> None:
        """octoDNS's SortEnforcingLoader check: the keys are in ``KEYGEN`` order."""
        if self.keygen is None:
            return
        memo = tuple(keys) if plain else None
        if memo is not None and memo in self.ordered:
            ok = self.ordered[memo]
        else:
            ok = keys == sorted(keys, key=self.keygen)
            if memo is not None and len(self.ordered) < _ORDER_MEMO:
                self.ordered[memo] = ok
        if not ok:
            raise _Fallback  # the loader words it (expected X got Y at file, line)


# -- !include ---------------------------------------------------------------------


def _include(loader: Any, node: Any, *, compose_only: bool) -> Any:
    doc: YamlFile = loader.dnsops_file
    line = node.start_mark.line + 1
    raw = loader.construct_scalar(node)
    if not isinstance(raw, str) or not raw:
        raise InputError(doc.shown, line, "!include needs a file name")
    doc.budget.includes += 1
    if doc.budget.includes > MAX_INCLUDES:
        raise InputError(doc.shown, line, f"more than {MAX_INCLUDES} !include in one file")
    # the name octoDNS gives it (its contexts carry it), relative to the including file
    name = os.path.join(os.path.dirname(doc.path), os.path.expanduser(raw))
    real = os.path.realpath(name)
    if doc.root is not None and not (real == doc.root or real.startswith(doc.root + os.sep)):
        raise InputError(
            doc.shown,
            line,
            f"!include {raw!r} is outside {shown_path(doc.root)}: includes stay in that directory",
        )
    if real in doc.chain:
        cycle = " -> ".join(shown_path(p) for p in (*doc.chain[doc.chain.index(real) :], real))
        raise InputError(doc.shown, line, f"!include {raw!r} is a cycle: {cycle}")
    shown = shown_path(name)
    try:
        data = read_bytes(name, shown, "YAML")
    except InputError as exc:
        raise InputError(doc.shown, line, f"!include {raw!r}: {exc.message}") from None
    used = doc.include_depth.get(id(node), 0)  # levels above the included data
    if doc.depth - used < 1:
        raise _too_deep(doc, line)
    child = YamlFile(name, shown, doc.root, (*doc.chain, real), doc.depth - used, doc.budget)
    return parse_yaml(data, child, loader.dnsops_base, compose_only=compose_only)


# -- the checks on the composed node graph ------------------------------------------


def _too_deep(doc: YamlFile, line: int) -> InputError:
    return InputError(
        doc.shown, line, f"nested deeper than {MAX_DEPTH} levels (mappings and sequences)"
    )


def _check_tree(root: Node, doc: YamlFile, most: int, sure: bool) -> bool:
    """Depth and duplicate keys of a document without anchors or includes (a tree).

    False if it meets more than ``most`` nodes (more than a tree of the document's size
    can have), or, unless ``sure`` it is a tree, nesting too deep: there may be aliases
    after all, and the caller walks it as a graph (which names a recursive alias).
    Level by level: the collections of one nesting depth at a time.
    """
    level = [root] if root.__class__ is not ScalarNode else []
    depth = 0
    while level:
        depth += 1
        if depth > doc.depth:
            if not sure:
                return False
            raise _too_deep(doc, level[0].start_mark.line + 1)
        deeper: list[Node] = []
        extend = deeper.extend
        for node in level:
            children = node.value
            most -= len(children)
            if node.__class__ is MappingNode:
                try:
                    unique = len({k.value for k, _ in children}) == len(children)
                except TypeError:  # a collection as a key: walk it too
                    unique = False
                    extend([k for k, _ in children if k.__class__ is not ScalarNode])
                if not unique:
                    _duplicates(children, doc)
                extend([v for _, v in children if v.__class__ is not ScalarNode])
            else:
                extend([v for v in children if v.__class__ is not ScalarNode])
        if most < 0:
            return False
        level = deeper
    return True


def _duplicates(pairs: list[tuple[Node, Node]], doc: YamlFile) -> None:
    """Raise for the first key given twice (the set of raw values said there may be one)."""
    seen: dict[Any, Node] = {}
    for key, _ in pairs:
        if key.__class__ is not ScalarNode:
            continue
        ident = (
            key.value if key.tag in (_STR, _MERGE) else (key.tag, _canonical(key.tag, key.value))
        )
        if ident in seen:
            first = seen[ident].start_mark.line + 1
            raise InputError(
                doc.shown,
                key.start_mark.line + 1,
                f"duplicate key {key.value!r} (first at line {first}): "
                "YAML would silently keep only the last",
            )
        seen[ident] = key


def _canonical(tag: str, value: str) -> Any:
    """A non-string key's value, so that ``1`` and ``0x1`` are one key (as when loaded)."""
    try:
        node = ScalarNode(tag, value)
        return SafeConstructor().construct_object(node)
    except Exception:  # the constructor reports it later, with its mark
        return value


def _check_graph(root: Node, doc: YamlFile) -> None:
    """Depth, duplicate keys, recursive aliases and alias expansion, on the node graph.

    Aliases compose to the very node they name, so the graph is a DAG (or has a cycle:
    an alias inside its own anchor). Each node's expanded size and height are computed
    once (memoised), so a billion laughs costs as much as its few dozen distinct nodes.
    """
    cap = 10**15
    limit = doc.depth
    memo: dict[int, tuple[int, int, int]] = {}  # id -> (height, expanded nodes, chars)
    on_path: set[int] = set()
    distinct_nodes = distinct_chars = 0
    # (node, depth, its children once entered: the node is finished when popped again)
    stack: list[tuple[Node, int, list[Node] | None]] = [(root, 1, None)]
    while stack:
        node, depth, entered = stack.pop()
        nid = id(node)
        if entered is not None:
            on_path.discard(nid)
            height, nodes, chars = 1, 1, 0
            if entered:
                heights, sizes, lengths = zip(*[memo[id(c)] for c in entered], strict=True)
                height += max(heights)
                nodes = min(cap, nodes + sum(sizes))
                chars = min(cap, sum(lengths))
            memo[nid] = (height, nodes, chars)
            line = node.start_mark.line + 1
            if depth - 1 + height > limit:
                raise _too_deep(doc, line)
            _spend(doc, line, nodes - distinct_nodes, chars - distinct_chars, final=False)
            continue
        if nid in memo:
            if depth - 1 + memo[nid][0] > limit:
                raise _too_deep(doc, node.start_mark.line + 1)
            continue
        if node.__class__ is ScalarNode:
            memo[nid] = (0, 1, len(node.value))
            distinct_nodes += 1
            distinct_chars += len(node.value)
            continue
        children = _children(node)
        if node.__class__ is MappingNode:
            pairs = node.value
            if len({k.value for k, _ in pairs if k.__class__ is ScalarNode}) != len(pairs):
                _duplicates(pairs, doc)
        on_path.add(nid)
        distinct_nodes += 1
        stack.append((node, depth, children))
        for child in reversed(children):
            cid = id(child)
            if child.__class__ is ScalarNode:  # a leaf: measured here, not stacked
                if cid not in memo:
                    memo[cid] = (0, 1, len(child.value))
                    distinct_nodes += 1
                    distinct_chars += len(child.value)
                if child.tag == _INCLUDE:
                    doc.include_depth[cid] = max(doc.include_depth.get(cid, 0), depth)
                continue
            if cid in on_path:
                raise InputError(
                    doc.shown,
                    child.start_mark.line + 1,
                    "recursive alias: the anchor contains an alias of itself",
                )
            stack.append((child, depth + 1, None))
    _, nodes, chars = memo[id(root)]
    _spend(doc, root.start_mark.line + 1, nodes - distinct_nodes, chars - distinct_chars, True)


def _children(node: Node) -> list[Node]:
    if node.__class__ is MappingNode:
        return [n for pair in node.value for n in pair]
    return list(node.value)


def _spend(doc: YamlFile, line: int, nodes: int, chars: int, final: bool) -> None:
    """Aliases of this file add ``nodes`` and ``chars`` (at least): within the budget?"""
    budget = doc.budget
    if budget.alias_nodes + nodes > MAX_ALIAS_NODES:
        raise InputError(
            doc.shown,
            line,
            f"aliases here expand to more than {MAX_ALIAS_NODES:,} nodes: "
            "refused, as a YAML alias bomb",
        )
    if budget.alias_chars + chars > MAX_ALIAS_CHARS:
        raise InputError(
            doc.shown,
            line,
            f"aliases here expand to more than {MAX_ALIAS_CHARS:,} characters: "
            "refused, as a YAML alias bomb",
        )
    if final:
        budget.alias_nodes += nodes
        budget.alias_chars += chars


# -- JSON ------------------------------------------------------------------------


class _Duplicate(Exception):
    pass


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        raise _Duplicate
    return d


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def load_json(path: Path, *, what: str, missing_ok: bool = False) -> Any:
    """A JSON file, safely (see the module). None if missing and ``missing_ok``.

    :raises InputError: unreadable, not UTF-8, not JSON, too deep, a duplicate key.
    """
    shown = str(path)
    try:
        data = read_bytes(path, shown, what)
    except InputError:
        if missing_ok and not os.path.lexists(path):
            return None
        raise
    return parse_json(decode(data, shown), shown)


def parse_json(text: str, shown: str, *, first_line: int = 1) -> Any:
    """``text`` as JSON, strictly: one document, no duplicate keys, no NaN, at most
    :data:`MAX_DEPTH` deep, no known secret; errors name ``shown`` and the line (counted
    from ``first_line``, for one line of a JSON-lines file)."""
    check_secrets(text, shown, first_line)
    try:
        value = json.loads(text, object_pairs_hook=_unique, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise InputError(
            shown, exc.lineno + first_line - 1, f"not JSON: {exc.msg} (column {exc.colno})"
        ) from None
    except (_Duplicate, RecursionError, ValueError) as exc:
        found = _json_scan(text, first_line=first_line)
        if found is None:  # pragma: no cover - the scan finds what json refused
            raise InputError(shown, first_line, f"not JSON: {exc}") from None
        line, problem = found
        raise InputError(shown, line, problem) from None
    if not _shallow(value):
        found = _json_scan(text, first_line=first_line)
        line = found[0] if found else first_line
        raise InputError(shown, line, f"nested deeper than {MAX_DEPTH} levels (JSON)")
    return value


def _shallow(value: Any) -> bool:
    """Is ``value`` (parsed JSON) nested at most MAX_DEPTH deep?"""
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        items: Any
        if v.__class__ is dict:
            items = v.values()
        elif v.__class__ is list:
            items = v
        else:
            continue
        if depth > MAX_DEPTH:
            return False
        for x in items:
            if x.__class__ is dict or x.__class__ is list:
                stack.append((x, depth + 1))
    return True


_JSON_TOKEN = re.compile(
    r'(?P<ws>\s+)|(?P<str>"(?:[^"\\]|\\.)*")|(?P<punct>[{}\[\]:,])|(?P<lit>[^\s{}\[\]:,"]+)|"',
    re.S,
)


@dataclass
class _Frame:
    keys: dict[str, int] | None  # key -> line, for an object; None for an array
    at: str | int | None = None  # the current key or index


def _json_scan(
    text: str, loc: tuple[str | int, ...] | None = None, first_line: int = 1
) -> tuple[int, str] | None:
    """The line of the first duplicate key, excess depth or non-JSON number, or with
    ``loc``: the line where the value at that path starts. Used on error paths only."""
    line = first_line
    stack: list[_Frame] = []
    expect_key = False
    for m in _JSON_TOKEN.finditer(text):
        kind, tok = m.lastgroup, m.group()
        if kind == "ws":
            line += tok.count("\n")
            continue
        if kind == "str" and expect_key and stack and stack[-1].keys is not None:
            try:
                key = json.loads(tok)
            except ValueError:
                key = tok
            frame = stack[-1]
            if loc is None and key in frame.keys:  # type: ignore[operator]
                return line, f"duplicate key {key!r} (first at line {frame.keys[key]})"  # type: ignore[index]
            frame.keys[key] = line  # type: ignore[index]
            frame.at = key
            expect_key = False
            continue
        if kind in ("str", "lit") or tok in "{[":
            if loc is not None and tuple(f.at for f in stack) == loc:
                return line, "here"
            if kind == "lit" and loc is None:
                if tok in ("NaN", "Infinity", "-Infinity"):
                    return line, f"not JSON: {tok}"
                if len(tok.lstrip("-")) > MAX_DIGITS:
                    return line, f"not JSON: a number of {len(tok)} characters is too long"
        if tok in "{[":
            stack.append(_Frame({} if tok == "{" else None, None if tok == "{" else 0))
            if loc is None and len(stack) > MAX_DEPTH:
                return line, f"nested deeper than {MAX_DEPTH} levels (JSON)"
            expect_key = tok == "{"
        elif tok in "}]":
            if stack:
                stack.pop()
            expect_key = False
        elif tok == ",":
            if stack and stack[-1].keys is None and isinstance(stack[-1].at, int):
                stack[-1].at += 1
            expect_key = bool(stack) and stack[-1].keys is not None
        elif tok == ":":
            expect_key = False
    return None


def json_line(text: str, loc: tuple[str | int, ...]) -> int | None:
    """The line of the value at path ``loc`` in a JSON text (for messages)."""
    found = _json_scan(text, loc)
    return found[0] if found else None
