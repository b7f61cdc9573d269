"""Token ids to text while a sample grows: incremental detokenizing and stop strings that span tokens.

Decoding each new token on its own breaks multi-byte characters and SentencePiece/BPE spacing, and
re-decoding the whole sample every step costs O(n^2) over a 32k-token chain. ``IncrementalText`` decodes
a short sliding window instead (the way vLLM does), and ``StopMatcher`` finds the first stop string in the
text so far, however the tokenizer split it, while holding back text that might still become one.
"""

from __future__ import annotations

import copy

__all__ = ["IncrementalText", "StopMatcher"]

_WINDOW = 6  # tokens of left context re-decoded with each new token, so spacing and merges come out right
_MAX_CHAR_TOKENS = 4  # a UTF-8 character spans at most 4 byte tokens; longer '\ufffd' runs are real junk


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
        self.text = ""
        self._prefix_offset = 0  # window start: decoded again for context, not emitted again
        self._read_offset = 0  # tokens up to here are already in self.text

    def clone(self) -> IncrementalText:
        """An independent copy (for a forked sample), sharing only the tokenizer."""
        twin = copy.copy(self)
        twin.token_ids = list(self.token_ids)
        return twin

    def extend(self, token_ids: list[int]) -> str:
        """Add tokens; return the text they complete (possibly empty while a character is half done)."""
        self.token_ids.extend(token_ids)
        decode = lambda ids: self.tokenizer.decode(ids, skip_special_tokens=self.skip_special_tokens)  # noqa: E731
        seen = decode(self.token_ids[self._prefix_offset:self._read_offset])
        full = decode(self.token_ids[self._prefix_offset:])
        incomplete = full.endswith("\ufffd") or len(full) < len(seen)
        if incomplete and len(self.token_ids) - self._read_offset < _MAX_CHAR_TOKENS:  # wait for the rest
            return ""
        delta = full[len(seen):]
        self.text += delta
        self._read_offset = len(self.token_ids)
        self._prefix_offset = max(self._prefix_offset, self._read_offset - _WINDOW)
        return delta


    def flush(self) -> str:
        """Text of tokens still held back (an unfinished character at the end of a sample)."""
        if self._read_offset == len(self.token_ids):
            return ""
        decode = lambda ids: self.tokenizer.decode(ids, skip_special_tokens=self.skip_special_tokens)  # noqa: E731
        seen = decode(self.token_ids[self._prefix_offset:self._read_offset])
        delta = decode(self.token_ids[self._prefix_offset:])[len(seen):]
        self.text += delta
        self._read_offset = len(self.token_ids)
        return delta


class StopMatcher:
    """Finds the first of ``stops`` in growing text; ``visible`` is what may be shown so far (it never shows a
    prefix of a stop string that the next token could complete).

    >>> stops = StopMatcher(["</answer>"])
    >>> stops.feed("x = 4</ans"), stops.visible, stops.matched
    (False, 'x = 4', None)
    >>> stops.feed("wer> trailing"), stops.visible, stops.matched
    (True, 'x = 4', '</answer>')
    """

    def __init__(self, stops: tuple[str, ...] | list[str]):
        self.stops = tuple(stops)
        self._longest = max((len(s) for s in self.stops), default=0)
        self.text = ""
        self.matched: str | None = None
        self._cut: int | None = None  # where the first stop string starts
        self._searched = 0  # every stop that starts before here has been looked for

    def clone(self) -> StopMatcher:
        """An independent copy (for a forked sample)."""
        return copy.copy(self)  # every field is immutable

    def feed(self, delta: str) -> bool:
        """Add text; True once a stop string has appeared (the text is then cut where it starts)."""
        if self.matched is not None:
            return True
        self.text += delta
        start = max(0, self._searched - self._longest + 1)
        hits = [(i, s) for s in self.stops if (i := self.text.find(s, start)) >= 0]
        if hits:
            self._cut, self.matched = min(hits)
            return True
        self._searched = len(self.text)
        return False

    def reopen(self) -> None:
        """Keep going after a stop (tokens were appended to the sample): look for stops only in new text."""
        if self.matched is not None:
            self.matched, self._cut = None, None
            self._searched = len(self.text)

    @property
    def visible(self) -> str:
        if self._cut is not None:
            return self.text[:self._cut]
        if not self.stops:
            return self.text
        # hold back the longest tail that is a prefix of some stop string
        for keep in range(min(self._longest - 1, len(self.text)), 0, -1):
            tail = self.text[-keep:]
            if any(s.startswith(tail) for s in self.stops):
                return self.text[:-keep]
        return self.text
