"""Just enough PDF text extraction for the tests, independent of reportlab: walk the page tree
with pyhanko's reader, tokenise each content stream and decode every shown string by its font
(UCS-2 for the Chinese CID font, Latin-1 otherwise)."""

from __future__ import annotations

import io
import re
from typing import Any

from pyhanko.pdf_utils.reader import PdfFileReader

_DELIMITERS = b"()<>[]{}/%"
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)$")
_WHITESPACE = b" \t\r\n\f\x00"
_ESCAPES = {
    ord("n"): b"\n",
    ord("r"): b"\r",
    ord("t"): b"\t",
    ord("b"): b"\b",
    ord("f"): b"\f",
    ord("("): b"(",
    ord(")"): b")",
    ord("\\"): b"\\",
}


def _literal(data: bytes, i: int) -> tuple[bytes, int]:
    """Parse a literal string starting after its "("; returns (bytes, index after ")")."""
    out = bytearray()
    depth = 1
    while True:
        c = data[i]
        if c == ord("\\"):
            nxt = data[i + 1]
            if nxt in _ESCAPES:
                out += _ESCAPES[nxt]
                i += 2
            elif chr(nxt) in "01234567":
                digits = re.match(rb"[0-7]{1,3}", data[i + 1 : i + 4])
                assert digits is not None
                out.append(int(digits.group(), 8) & 0xFF)
                i += 1 + len(digits.group())
            elif nxt in b"\r\n":  # line continuation
                i += 2
            else:
                out.append(nxt)
                i += 2
            continue
        if c == ord("("):
            depth += 1
        elif c == ord(")"):
            depth -= 1
            if depth == 0:
                return bytes(out), i + 1
        out.append(c)
        i += 1


def _tokens(data: bytes) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    i, n = 0, len(data)
    while i < n:
        c = data[i]
        if c in _WHITESPACE:
            i += 1
        elif c == ord("%"):
            while i < n and data[i] not in b"\r\n":
                i += 1
        elif c == ord("("):
            text, i = _literal(data, i + 1)
            tokens.append(("str", text))
        elif data[i : i + 2] in (b"<<", b">>"):
            tokens.append(("op", data[i : i + 2].decode()))
            i += 2
        elif c == ord("<"):
            end = data.index(b">", i)
            tokens.append(("str", bytes.fromhex(re.sub(rb"\s", b"", data[i + 1 : end]).decode())))
            i = end + 1
        elif c in b"[]":
            tokens.append((chr(c), None))
            i += 1
        else:
            j = i + 1
            while j < n and data[j] not in _WHITESPACE and data[j] not in _DELIMITERS:
                j += 1
            word = data[i:j].decode("latin-1")
            kind = "name" if word.startswith("/") else "num" if _NUMBER.match(word) else "op"
            tokens.append((kind, word))
            i = j
    return tokens


def _pages(node: Any) -> list[Any]:
    if node["/Type"] == "/Page":
        return [node]
    # iterating a pyhanko array yields references; get_object() dereferences them
    return [page for kid in node["/Kids"] for page in _pages(kid.get_object())]


def _decoder(font: Any) -> str:
    encoding = font.get("/Encoding")
    return "utf-16-be" if isinstance(encoding, str) and encoding.endswith("UCS2-H") else "latin-1"


def page_texts(pdf: bytes) -> list[list[str]]:
    """Every string shown on each page, in content-stream order."""
    reader = PdfFileReader(io.BytesIO(pdf))
    result: list[list[str]] = []
    for page in _pages(reader.root["/Pages"]):
        resources = page["/Resources"]
        fonts = resources["/Font"] if "/Font" in resources else {}
        contents = page["/Contents"]
        streams = [c.get_object() for c in contents] if isinstance(contents, list) else [contents]
        shown: list[str] = []
        codec = "latin-1"
        operands: list[tuple[str, Any]] = []
        for stream in streams:
            for kind, value in _tokens(stream.data):
                if kind != "op":
                    operands.append((kind, value))
                    continue
                strings = [v for k, v in operands if k == "str"]
                if value == "Tf":
                    codec = _decoder(fonts[next(v for k, v in operands if k == "name")])
                elif value in ("Tj", "'", '"', "TJ"):
                    shown.append("".join(s.decode(codec) for s in strings))
                operands = []
        result.append(shown)
    return result


def pdf_text(pdf: bytes) -> str:
    return "\n".join(line for page in page_texts(pdf) for line in page)
