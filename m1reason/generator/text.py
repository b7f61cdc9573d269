"""Token ids to text while a sample grows: incremental detokenizing and stop strings that span tokens.

Decoding each new token on its own breaks multi-byte characters and SentencePiece/BPE spacing, and
re-decoding the whole sample every step costs O(n^2) over a 32k-token chain. ``IncrementalText`` decodes
a short sliding window instead (the way vLLM does), and ``StopMatcher`` finds the first stop string in the
text so far, however the tokenizer split it, while holding back text that might still become one.

Byte-level BPE tokenizers (GPT-2's scheme, used by Llama 3 and by m1reason.train's tokenizer) need no window:
every token id stands for a fixed string of bytes and the text is their UTF-8 decoding, so ``IncrementalText``
looks the bytes up and runs an incremental UTF-8 decoder, exact and with no tokenizer call per token. The
window costs two ``decode`` calls per token per sample, which made it the largest host cost of a decode step
with text when many samples decode at once; the byte table costs a fraction of it.
"""

from __future__ import annotations

import codecs
import copy
import weakref

__all__ = ["IncrementalText", "StopMatcher", "byte_level_table", "decode_options"]

_WINDOW = 6  # tokens of left context re-decoded with each new token, so spacing and merges come out right
_MAX_CHAR_TOKENS = 4  # a UTF-8 character spans at most 4 byte tokens; longer '\ufffd' runs are real junk


class _Growing:
    """A string built by appending: O(1) per append (``s += delta`` copies all of ``s``, and a 32k-token sample
    appends to its text 32k times); the whole string is joined only when someone reads ``value``.

    >>> g = _Growing(); g.append("ab"); g.append("cd"); len(g), g.value, g.slice(1, 3)
    (4, 'abcd', 'bc')
    """

    __slots__ = ("_parts", "_length")

    def __init__(self):
        self._parts: list[str] = []
        self._length = 0

    def __len__(self) -> int:
        return self._length

    def append(self, piece: str) -> None:
        if piece:
            self._parts.append(piece)
            self._length += len(piece)

    @property
    def value(self) -> str:
        if len(self._parts) > 1:
            self._parts = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    def slice(self, start: int, end: int) -> str:
        """value[start:end] for 0 <= start, end <= len; near the end it joins only the parts it needs."""
        if start >= end:
            return ""
        pieces, at = [], self._length  # walk back from the end while the slice reaches further back
        for part in reversed(self._parts):
            at -= len(part)
            pieces.append(part)
            if at <= start:
                break
            if len(pieces) > 64:  # reaching far back (a whole-text read): join everything once and keep it
                return self.value[start:end]
        return "".join(reversed(pieces))[start - at:end - at]

    def clone(self) -> _Growing:
        twin = _Growing()
        twin._parts, twin._length = list(self._parts), self._length
        return twin


_TABLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # tokenizer -> {skip_special: table or None}


def _gpt2_byte_decoder() -> dict[str, int]:
    """GPT-2's byte-level alphabet: the printable character that stands for each byte in a token's string."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            chars[chr(byte)] = byte
        else:
            chars[chr(256 + extra)] = byte
            extra += 1
    return chars


def decode_options(tokenizer, skip_special_tokens: bool) -> dict:
    """Keyword arguments for ``tokenizer.decode``: special tokens skipped or kept, and never a clean-up of spaces
    before punctuation (``clean_up_tokenization_spaces``, for tokenizers that have the option). Applied window by
    window, a clean-up loses text: "a", " ", "." decodes "a ", then "a." (the same length), and the "." is never
    streamed. Without it the streamed pieces add up to the decoded text, as in vLLM's streaming.

    >>> class Toy:
    ...     def decode(self, ids, skip_special_tokens=False): return ""
    >>> decode_options(Toy(), True)
    {'skip_special_tokens': True}
    """
    options = {"skip_special_tokens": skip_special_tokens}
    if hasattr(tokenizer, "clean_up_tokenization_spaces"):
        options["clean_up_tokenization_spaces"] = False
    return options


def byte_level_table(tokenizer, skip_special_tokens: bool = True) -> list[bytes] | None:
    """For a byte-level BPE tokenizer (a ``tokenizers`` backend whose decoder is ``ByteLevel``, with no
    normalizer), the bytes of every token id (special tokens empty when skipped); None for any other tokenizer,
    and for one whose ``decode`` (with ``decode_options``) does more than join those bytes, as checked on a probe
    text. Built once per tokenizer.

    >>> from m1reason.defaults import EMBEDDED_MODEL
    >>> from m1reason.tokenizer import load_tokenizer
    >>> tok = load_tokenizer(str(EMBEDDED_MODEL))
    >>> table = byte_level_table(tok)
    >>> ids = tok("Half of 3/4 is 3/8.", add_special_tokens=False)["input_ids"]
    >>> b"".join(table[i] for i in ids).decode()
    'Half of 3/4 is 3/8.'
    """
    try:
        cached = _TABLES.setdefault(tokenizer, {})
    except TypeError:  # not weak-referenceable: build it every time
        cached = {}
    if skip_special_tokens not in cached:
        cached[skip_special_tokens] = _build_table(tokenizer, skip_special_tokens)
    return cached[skip_special_tokens]


def _build_table(tokenizer, skip_special_tokens: bool) -> list[bytes] | None:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None or type(backend.decoder).__name__ != "ByteLevel" or backend.normalizer is not None:
        return None
    byte_of = _gpt2_byte_decoder()
    added = backend.get_added_tokens_decoder()
    table = []
    for token_id in range(backend.get_vocab_size(with_added_tokens=True)):
        token = backend.id_to_token(token_id)
        if token is None:
            table.append(b"")
            continue
        special = token_id in added and added[token_id].special
        if special and skip_special_tokens:
            table.append(b"")
        elif token_id in added:
            table.append(token.encode())  # an added token's content is its text, not byte-level characters
        elif all(ch in byte_of for ch in token):
            table.append(bytes(byte_of[ch] for ch in token))
        else:
            return None  # not GPT-2's alphabet after all: decode the slow way
    probe = backend.encode(_PROBE, add_special_tokens=False).ids
    joined = b"".join(table[i] for i in probe).decode("utf-8", "replace")
    if tokenizer.decode(probe, **decode_options(tokenizer, skip_special_tokens)) != joined:
        return None  # its decode rewrites text (e.g. cleans up spaces): only the window reproduces that
    return table


# Text whose decoding a clean-up of tokenization spaces would change, with a character of each UTF-8 length.
_PROBE = "x . y ? z ! w , a ' b n't c 'm d 's e 've f 're Ω ≤ 𝔼"


class IncrementalText:
    """The decoded text of a growing list of token ids, extended a token at a time.

    >>> class Bytes:  # a toy tokenizer: token i is byte i, decoded as UTF-8
    ...     def decode(self, ids, skip_special_tokens=False):
    ...         return bytes(ids).decode("utf-8", errors="replace")
    >>> text = IncrementalText(Bytes())
    >>> [text.extend([t]) for t in "é!".encode()]   # 'é' is two bytes: nothing until both arrive
    ['', 'é', '!']
    >>> text.text
    'é!'
    >>> text.extend([0xC3]), text.flush(), text.text  # cut off mid-character: flush shows what there is
    ('', '�', 'é!�')
    """

    def __init__(self, tokenizer, *, skip_special_tokens: bool = True):
        self.tokenizer = tokenizer
        self.skip_special_tokens = skip_special_tokens
        self.token_ids: list[int] = []
        self._text = _Growing()
        self._prefix_offset = 0  # window start: decoded again for context, not emitted again
        self._read_offset = 0  # tokens up to here are already in self.text
        self._decode_options = decode_options(tokenizer, skip_special_tokens)
        self._bytes = byte_level_table(tokenizer, skip_special_tokens)  # None: decode through a window
        self._utf8 = codecs.getincrementaldecoder("utf-8")("replace") if self._bytes is not None else None

    def clone(self) -> IncrementalText:
        """An independent copy (for a forked sample), sharing only the tokenizer."""
        twin = copy.copy(self)
        twin.token_ids = list(self.token_ids)
        twin._text = self._text.clone()
        if self._utf8 is not None:
            twin._utf8 = codecs.getincrementaldecoder("utf-8")("replace")
            twin._utf8.setstate(self._utf8.getstate())
        return twin

    @property
    def text(self) -> str:
        return self._text.value

    @property
    def exact_in_runs(self) -> bool:
        """Whether extending by several tokens at once gives the text of extending by one at a time (the byte
        table does; the window may place a held-back character differently)."""
        return self._bytes is not None

    def extend(self, token_ids: list[int]) -> str:
        """Add tokens; return the text they complete (possibly empty while a character is half done)."""
        self.token_ids.extend(token_ids)
        if self._bytes is not None:
            table = self._bytes
            delta = self._utf8.decode(b"".join(table[i] if 0 <= i < len(table) else b"" for i in token_ids))
            self._text.append(delta)
            self._read_offset = len(self.token_ids)
            return delta
        decode = lambda ids: self.tokenizer.decode(ids, **self._decode_options)  # noqa: E731
        seen = decode(self.token_ids[self._prefix_offset:self._read_offset])
        full = decode(self.token_ids[self._prefix_offset:])
        incomplete = full.endswith("\ufffd") or len(full) < len(seen)
        if incomplete and len(self.token_ids) - self._read_offset < _MAX_CHAR_TOKENS:  # wait for the rest
            return ""
        delta = full[len(seen):]
        self._text.append(delta)
        self._read_offset = len(self.token_ids)
        self._prefix_offset = max(self._prefix_offset, self._read_offset - _WINDOW)
        return delta

    def flush(self) -> str:
        """Text of tokens still held back (an unfinished character at the end of a sample)."""
        if self._utf8 is not None:
            delta = self._utf8.decode(b"", final=True)
            self._utf8.reset()
            self._text.append(delta)
            return delta
        if self._read_offset == len(self.token_ids):
            return ""
        decode = lambda ids: self.tokenizer.decode(ids, **self._decode_options)  # noqa: E731
        seen = decode(self.token_ids[self._prefix_offset:self._read_offset])
        delta = decode(self.token_ids[self._prefix_offset:])[len(seen):]
        self._text.append(delta)
        self._read_offset = len(self.token_ids)
        return delta


class StopMatcher:
    """Finds the first of ``stops`` in growing text; ``visible`` is what may be shown so far (it never shows a
    prefix of a stop string that the next token could complete).

    Each ``feed`` costs the length of the new text plus the longest stop string, not the length of the text so
    far: only the tail a stop string could span is searched, and the text is joined only when read.

    >>> stops = StopMatcher(["</answer>"])
    >>> stops.feed("x = 4</ans"), stops.visible, stops.matched
    (False, 'x = 4', None)
    >>> stops.feed("wer> trailing"), stops.visible, stops.matched
    (True, 'x = 4', '</answer>')
    """

    def __init__(self, stops: tuple[str, ...] | list[str]):
        self.stops = tuple(stops)
        self._longest = max((len(s) for s in self.stops), default=0)
        self._text = _Growing()
        self._tail = ""  # the last _longest - 1 characters: where a stop string completed by new text starts
        self.matched: str | None = None
        self._cut: int | None = None  # where the first stop string starts

    def clone(self) -> StopMatcher:
        """An independent copy (for a forked sample)."""
        twin = copy.copy(self)
        twin._text = self._text.clone()
        return twin

    @property
    def text(self) -> str:
        return self._text.value

    def feed(self, delta: str) -> bool:
        """Add text; True once a stop string has appeared (the text is then cut where it starts)."""
        if self.matched is not None:
            return True
        region, offset = self._tail + delta, len(self._text) - len(self._tail)
        self._text.append(delta)
        self._tail = region[max(0, len(region) - self._longest + 1):] if self._longest > 1 else ""
        hits = [(i, s) for s in self.stops if (i := region.find(s)) >= 0]
        if hits:
            at, self.matched = min(hits)
            self._cut = offset + at
            return True
        return False

    def reopen(self) -> None:
        """Keep going after a stop (tokens were appended to the sample): look for stops only in new text."""
        if self.matched is not None:
            self.matched, self._cut = None, None

    @property
    def visible_length(self) -> int:
        """len(visible), without building it."""
        if self._cut is not None:
            return self._cut
        if not self.stops:
            return len(self._text)
        # hold back the longest tail that is a prefix of some stop string
        for keep in range(min(self._longest - 1, len(self._tail)), 0, -1):
            tail = self._tail[-keep:]
            if any(s.startswith(tail) for s in self.stops):
                return len(self._text) - keep
        return len(self._text)

    def text_between(self, start: int, end: int) -> str:
        """text[start:end]; cheap when start is near the end (what a stream sends after each token).

        >>> stops = StopMatcher(["</a>"]); _ = stops.feed("ab</"); stops.text_between(1, stops.visible_length)
        'b'
        """
        return self._text.slice(start, end)

    @property
    def visible(self) -> str:
        return self.text_between(0, self.visible_length)
