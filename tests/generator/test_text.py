"""Incremental text and stop strings: the O(1)-per-token versions agree with whole-text references."""

import random

import pytest

from m1reason.generator.text import IncrementalText, StopMatcher, _Growing


class ReferenceStopMatcher:
    """StopMatcher as it was (copying the whole text on every feed): what the faster one must agree with."""

    def __init__(self, stops):
        self.stops, self._longest = tuple(stops), max((len(s) for s in stops), default=0)
        self.text, self.matched, self._cut, self._searched = "", None, None, 0

    def feed(self, delta):
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

    def reopen(self):
        if self.matched is not None:
            self.matched, self._cut = None, None
            self._searched = len(self.text)

    @property
    def visible(self):
        if self._cut is not None:
            return self.text[:self._cut]
        for keep in range(min(self._longest - 1, len(self.text)), 0, -1):
            if any(s.startswith(self.text[-keep:]) for s in self.stops):
                return self.text[:-keep]
        return self.text


@pytest.mark.parametrize("seed", range(40))
def test_stop_matcher_agrees_with_the_whole_text_reference(seed):
    rng = random.Random(seed)
    stops = [
        "".join(rng.choice("ab<") for _ in range(rng.randint(1, 4))) for _ in range(rng.randint(0, 3))]
    fast, slow, shown = StopMatcher(stops), ReferenceStopMatcher(stops), 0
    for _ in range(60):
        delta = "".join(rng.choice("ab<c") for _ in range(rng.randint(0, 3)))
        assert fast.feed(delta) == slow.feed(delta)
        assert (fast.text, fast.visible, fast.matched) == (slow.text, slow.visible, slow.matched)
        assert fast.visible_length == len(slow.visible)
        assert fast.text_between(shown, fast.visible_length) == slow.visible[shown:]
        shown = fast.visible_length
        if fast.matched is not None and rng.random() < 0.5:
            fast.reopen(), slow.reopen()
        if rng.random() < 0.1:
            twin = fast.clone()
            twin.feed("ab<ab")
            assert fast.text == slow.text  # the clone's text is its own


def test_growing_text_slices_like_the_joined_string():
    rng = random.Random(0)
    growing, joined = _Growing(), ""
    for _ in range(2000):
        piece = "".join(rng.choice("abc") for _ in range(rng.randint(0, 3)))
        growing.append(piece)
        joined += piece
        start, end = sorted(rng.randint(0, len(joined)) for _ in range(2))
        near_end = max(0, len(joined) - rng.randint(0, 8))
        assert growing.slice(start, end) == joined[start:end]
        assert growing.slice(near_end, len(joined)) == joined[near_end:]
        assert len(growing) == len(joined)
    assert growing.value == joined


def test_byte_level_tokenizers_decode_by_table_exactly_as_the_tokenizer_does():
    """The embedded tokenizer is byte-level BPE: its ids map to bytes, decoded by an incremental UTF-8 decoder.
    Token by token or in runs, with special tokens skipped or kept, the text equals ``tokenizer.decode``."""
    import random

    from m1reason.defaults import EMBEDDED_MODEL
    from m1reason.generator.text import byte_level_table
    from m1reason.tokenizer import load_tokenizer

    tok = load_tokenizer(str(EMBEDDED_MODEL))
    assert byte_level_table(tok) is not None
    rng = random.Random(0)
    for _ in range(300):
        ids = [rng.randrange(len(tok)) for _ in range(rng.randrange(1, 40))]
        for skip in (True, False):
            one, runs = IncrementalText(tok, skip_special_tokens=skip), IncrementalText(tok, skip_special_tokens=skip)
            by_token = "".join(one.extend([i]) for i in ids) + one.flush()
            cuts = sorted({0, len(ids), *(rng.randrange(len(ids)) for _ in range(3))})
            by_run = "".join(runs.extend(ids[a:b]) for a, b in zip(cuts, cuts[1:])) + runs.flush()
            assert by_token == by_run == tok.decode(ids, skip_special_tokens=skip), ids


def test_a_character_split_across_byte_tokens_waits_and_forks_carry_the_half_character():
    from m1reason.defaults import EMBEDDED_MODEL
    from m1reason.tokenizer import load_tokenizer

    tok = load_tokenizer(str(EMBEDDED_MODEL))
    vocab = tok.get_vocab()
    first, second = vocab["Ã"], vocab["©"]  # GPT-2's characters for the bytes 0xC3 and 0xA9: "é" split in two
    text = IncrementalText(tok)
    assert text.extend([first]) == ""  # half a character: nothing yet
    twin = text.clone()
    assert text.extend([second]) == "é" and twin.extend([second]) == "é"
    assert IncrementalText(tok).extend([first]) == "" and text.flush() == ""
    cut = IncrementalText(tok)
    cut.extend([first])
    assert cut.flush() == "\ufffd"  # the sample ended mid-character


def test_spaces_are_never_cleaned_up_so_streamed_pieces_add_up():
    """A clean-up of spaces before punctuation (``clean_up_tokenization_spaces``), applied window by window, would
    lose text; the streamed text is the decoding without it, from the table or through the window alike."""
    from benchmarks.host_overhead import WindowedOnly
    from m1reason.defaults import EMBEDDED_MODEL
    from m1reason.generator.text import byte_level_table
    from m1reason.tokenizer import load_tokenizer

    forced = load_tokenizer(str(EMBEDDED_MODEL))
    forced.clean_up_tokenization_spaces = True
    forced.clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output = True
    ids = forced("a . b 's", add_special_tokens=False)["input_ids"]
    assert forced.decode(ids) == "a. b's"  # what a clean-up makes of it
    assert byte_level_table(forced) is not None
    for tokenizer in (forced, WindowedOnly(forced)):
        text = IncrementalText(tokenizer)
        assert "".join(text.extend([i]) for i in ids) + text.flush() == "a . b 's"
