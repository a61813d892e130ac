"""The query language: lexer, parser, syntax tree and the FTS5 expression.

Queries are words, ``"quoted phrases"``, prefixes (``oorlog*``) and boolean
combinations (``AND``, ``OR``, ``NOT``, parentheses; adjacent terms are joined
by ``AND``). A query is evaluated per story (:mod:`analysis.search.match`);
:func:`fts_expression` turns it into a MATCH expression for the index
(:mod:`analysis.search.index`) that finds at least the stories it matches.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..errors import QueryError
from .fold import fold

_TOKEN = re.compile(r"[^\W_]+")
_TOKEN_CLASS = r"[^\W_]"
_SEP_CLASS = r"[\W_]"


@dataclass(frozen=True)
class Term:
    """A word, a phrase (several tokens in a row) or a prefix."""

    raw: str
    tokens: tuple[str, ...]  # as typed
    folded: tuple[str, ...]
    prefix: bool = False

    def __str__(self) -> str:
        return '"' + " ".join(self.tokens) + '"' + ("*" if self.prefix else "")


@dataclass(frozen=True)
class And:
    left: "Node"
    right: "Node"

    def __str__(self) -> str:
        return f"({self.left} AND {self.right})"


@dataclass(frozen=True)
class Or:
    left: "Node"
    right: "Node"

    def __str__(self) -> str:
        return f"({self.left} OR {self.right})"


@dataclass(frozen=True)
class Not:
    """``left NOT right``: stories matching ``left`` that do not match ``right``."""

    left: "Node"
    right: "Node"

    def __str__(self) -> str:
        return f"({self.left} NOT {self.right})"


Node = Term | And | Or | Not
OPERATORS = ("AND", "OR", "NOT")
# Parentheses in parentheses. Each level can cost the FTS5 expression three (a group
# in a NOT in an AND in an OR), and FTS5's parser stack overflows at about 40 levels.
MAX_NESTING = 10


def chain(node: And | Or | Not) -> list[Node]:
    """The operands of a run of one operator, in order: ``a OR b OR c`` -> ``[a, b, c]``.

    The parser builds such a run as a tree that leans left, one level per
    operator; walking it this way instead of recursing keeps a query of
    thousands of terms within Python's recursion limit (and, joined flat, within
    FTS5's parser stack).
    """
    kind, rights = type(node), []
    while type(node) is kind:
        rights.append(node.right)
        node = node.left
    rights.append(node)
    return rights[::-1]

_LEX = re.compile(r'\s*(?:(?P<paren>[()])|"(?P<phrase>[^"]*)"(?P<star>\*?)|(?P<word>[^\s()"]+))')


def _lex(query: str) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    pos = 0
    while True:
        while pos < len(query) and query[pos].isspace():
            pos += 1
        if pos >= len(query):
            return out
        m = _LEX.match(query, pos)
        if m is None:
            raise QueryError(f"invalid query {query!r}: a quote is not closed")
        pos = m.end()
        if m.group("paren"):
            out.append((m.group("paren"), None))
        elif m.group("phrase") is not None:
            out.append(("term", _term(m.group("phrase"), m.group(0).strip(), bool(m.group("star")), query)))
        else:
            word = m.group("word")
            if word in OPERATORS:
                out.append(("op", word))
            else:
                core = word.rstrip("*")
                if "*" in core:
                    raise QueryError(f"invalid query {query!r}: '*' may only end a word ({word})")
                out.append(("term", _term(core, word, word.endswith("*"), query)))


def _term(text: str, raw: str, prefix: bool, query: str) -> Term:
    tokens = tuple(_TOKEN.findall(text))
    if not tokens:
        raise QueryError(f"invalid query {query!r}: nothing to search for in {raw}")
    return Term(raw, tokens, tuple(fold(t) for t in tokens), prefix)


class _Parser:
    """or := and (OR and)*; and := not ([AND] not)*; not := primary (NOT primary)*."""

    def __init__(self, query: str) -> None:
        self.query = query
        self.toks = _lex(query)
        self.i = 0
        self.depth = 0  # parentheses open around the current position

    def fail(self, why: str):
        raise QueryError(f"invalid query {self.query!r}: {why}")

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def parse(self) -> Node | None:
        if not self.toks:
            return None
        node = self.or_()
        if self.i < len(self.toks):
            kind, _ = self.peek()
            self.fail("')' without '('" if kind == ")" else f"unexpected {kind}")
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.peek() == ("op", "OR"):
            self.i += 1
            node = Or(node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.not_()
        while True:
            kind, value = self.peek()
            if (kind, value) == ("op", "AND"):
                self.i += 1
            elif kind not in ("term", "("):
                return node
            node = And(node, self.not_())

    def not_(self) -> Node:
        node = self.primary()
        while self.peek() == ("op", "NOT"):
            self.i += 1
            node = Not(node, self.primary())
        return node

    def primary(self) -> Node:
        kind, value = self.peek()
        self.i += 1
        if kind == "term":
            return value  # type: ignore[return-value]
        if kind == "(":
            self.depth += 1
            if self.depth > MAX_NESTING:
                self.fail(f"parentheses nested more than {MAX_NESTING} deep")
            node = self.or_()
            if self.peek()[0] != ")":
                self.fail("'(' without ')'")
            self.i += 1
            self.depth -= 1
            return node
        if kind == "op":
            if value == "NOT":
                self.fail("NOT needs a term on its left, as in 'Oekraïne NOT Rusland'")
            self.fail(f"{value} needs a term on each side")
        if kind == ")":
            self.fail("')' without '(' or an empty pair of parentheses")
        self.fail("the query ends with an operator")
        raise AssertionError  # unreachable


def parse_query(query: str) -> Node | None:
    """Parse a query into a tree; None for an empty query (every story matches).

    Raises :class:`QueryError` for an invalid query.
    """
    return _Parser(unicodedata.normalize("NFC", query)).parse()


def fts_expression(node: Node, *, with_not: bool = True) -> str:
    """An FTS5 MATCH expression that finds at least the stories ``node`` matches.

    Every token is quoted; ``with_not=False`` leaves out the ``NOT`` parts (for
    case-sensitive search, where the index cannot tell what to exclude).
    """
    if isinstance(node, Term):
        return '"' + " ".join(node.folded) + '"' + ("*" if node.prefix else "")
    parts = chain(node)  # a run of one operator, joined flat: FTS5 reads it left to right
    if isinstance(node, Not):
        left = fts_expression(parts[0], with_not=with_not)
        if not with_not:
            return left
        return f"({left}) NOT " + " NOT ".join(f"({fts_expression(p, with_not=with_not)})" for p in parts[1:])
    op = " AND " if isinstance(node, And) else " OR "
    return op.join(f"({fts_expression(p, with_not=with_not)})" for p in parts)
