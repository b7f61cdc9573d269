"""MarkedLog: while one thread appends, readers' windows hold every record after their marks, none twice, and the
log is bounded again when the last window is read."""

import threading

from m1reason.records import MarkedLog


def test_windows_taken_while_another_thread_appends_lose_nothing():
    log, done = MarkedLog(maxlen=8), threading.Event()

    def writer():
        for i in range(20_000):
            log.append(i)
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    windows = []
    while not done.is_set():
        mark = log.mark()
        windows.append(log.since(mark))
    thread.join()
    seen = [i for window in windows for i in window]
    assert seen == sorted(seen) and len(seen) == len(set(seen))  # in order, none twice
    for window in windows:
        assert window == list(range(window[0], window[0] + len(window))) if window else True  # no gap inside
    assert len(log) == 8 and log.recent() == list(range(19_992, 20_000))


def test_overlapping_marks_each_see_their_own_window():
    log = MarkedLog(maxlen=2)
    outer = log.mark()
    log.extend([1, 2, 3])
    inner = log.mark()
    log.extend([4, 5])
    assert log.since(inner) == [4, 5]
    assert len(log) == 5  # the outer mark is still open: nothing dropped
    assert log.since(outer) == [1, 2, 3, 4, 5]
    assert log.recent() == [4, 5] and log.latest(lambda x: x % 2) == 5 and log.latest(lambda x: x > 9) is None
