#!/usr/bin/env python3
"""docs/asyncio-to-aio.md names every public name of asyncio 3.12, and every aiohttp
name the seeds use.

Checked: every name of asyncio.__all__ (3.12) and every public method of
asyncio.AbstractEventLoop (3.12) appears in the asyncio column (the first cell) of a
table row of the page, in backticks: `name`, `asyncio.name`, or for a loop method in
a cell with a span that starts with `loop.` (`loop.run_forever() stop() close()`
names three).

The lists below are CPython 3.12's, written out because the machine's python3 may be
another version. When the running python3 is 3.12 or older, its own asyncio is read
too and each of its names must be in the lists (so the lists cannot miss one that
this Python has).

    docs_names_test.py [path/to/asyncio-to-aio.md]
"""
import os
import re
import sys

# asyncio.__all__ of CPython 3.12 (3.11's plus the eager task factory).
ALL_312 = """
BaseEventLoop Server
Runner run
iscoroutinefunction iscoroutine
AbstractEventLoopPolicy AbstractEventLoop AbstractServer Handle TimerHandle
get_event_loop_policy set_event_loop_policy get_event_loop set_event_loop new_event_loop
get_child_watcher set_child_watcher _set_running_loop get_running_loop _get_running_loop
BrokenBarrierError CancelledError InvalidStateError TimeoutError IncompleteReadError
LimitOverrunError SendfileNotAvailableError
Future wrap_future isfuture
Lock Event Condition Semaphore BoundedSemaphore Barrier
BaseProtocol Protocol DatagramProtocol SubprocessProtocol BufferedProtocol
Queue PriorityQueue LifoQueue QueueFull QueueEmpty
StreamReader StreamWriter StreamReaderProtocol open_connection start_server
open_unix_connection start_unix_server
create_subprocess_exec create_subprocess_shell
Task create_task FIRST_COMPLETED FIRST_EXCEPTION ALL_COMPLETED wait wait_for
as_completed sleep gather shield ensure_future run_coroutine_threadsafe current_task
all_tasks create_eager_task_factory eager_task_factory
_register_task _unregister_task _enter_task _leave_task
TaskGroup
to_thread
Timeout timeout timeout_at
BaseTransport ReadTransport WriteTransport Transport DatagramTransport SubprocessTransport
SelectorEventLoop AbstractChildWatcher SafeChildWatcher FastChildWatcher
PidfdChildWatcher MultiLoopChildWatcher ThreadedChildWatcher DefaultEventLoopPolicy
""".split()

# Public methods of asyncio.AbstractEventLoop in CPython 3.12.
LOOP_METHODS_312 = """
add_reader add_signal_handler add_writer call_at call_exception_handler call_later
call_soon call_soon_threadsafe close connect_accepted_socket connect_read_pipe
connect_write_pipe create_connection create_datagram_endpoint create_future
create_server create_task create_unix_connection create_unix_server
default_exception_handler get_debug get_exception_handler get_task_factory
getaddrinfo getnameinfo is_closed is_running remove_reader remove_signal_handler
remove_writer run_forever run_in_executor run_until_complete sendfile set_debug
set_default_executor set_exception_handler set_task_factory shutdown_asyncgens
shutdown_default_executor sock_accept sock_connect sock_recv sock_recv_into
sock_recvfrom sock_recvfrom_into sock_sendall sock_sendfile sock_sendto start_tls
stop subprocess_exec subprocess_shell time
""".split()

# The aiohttp names the seeds (../shared/seeds) use, read off their programs: classes,
# exceptions and module functions, with the session's and response's methods and the
# keyword arguments they pass. Each must be in the aiohttp column of a row.
AIOHTTP_SEEDS = """
ClientSession ClientError ClientResponseError HttpProcessingError
get request status text json read raise_for_status timeout loop
""".split()
# Written with their module, as the seeds do (`aiohttp.get(url)` is aiohttp 1.x's).
AIOHTTP_SPANS = ["aiohttp.get", "aiohttp.ClientSession", "http_exceptions"]


def first_cells(text):
    """The first cell of every table row (header and separator rows left out)."""
    cells = []
    for line in text.split("\n"):
        if not line.startswith("|") or re.match(r"^\|[-| :]+\|?$", line):
            continue
        parts = re.split(r"(?<!\\)\|", line)
        if len(parts) > 2:
            cells.append(parts[1])
    return cells


def aiohttp_cells(text):
    """The first cells of the tables in the page's aiohttp sections (a `## ` heading
    that names aiohttp)."""
    sections = re.split(r"^## ", text, flags=re.M)
    return [c for sec in sections if "aiohttp" in sec.split("\n", 1)[0] for c in first_cells(sec)]


def spans(cell):
    return re.findall(r"`([^`]+)`", cell)


def words(span):
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", span))


def main(argv):
    page = argv[1] if len(argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "docs", "asyncio-to-aio.md")
    with open(page, encoding="utf-8") as f:
        text = f.read()
    cells = first_cells(text)
    names = set()
    loop_names = set()
    for cell in cells:
        found = spans(cell)
        on_loop = any(span.startswith("loop.") for span in found)
        for span in found:
            w = words(span)
            names |= w
            if on_loop:
                loop_names |= w

    failures = []
    if sys.version_info[:2] <= (3, 12):
        import asyncio
        missing = sorted(set(asyncio.__all__) - set(ALL_312))
        if missing:
            failures.append(f"this Python's asyncio.__all__ has names the 3.12 list lacks: {missing}")
        methods = {n for n in dir(asyncio.AbstractEventLoop) if not n.startswith("_")}
        missing = sorted(methods - set(LOOP_METHODS_312))
        if missing:
            failures.append(f"this Python's AbstractEventLoop has methods the 3.12 list lacks: {missing}")

    missing = [n for n in ALL_312 if n not in names]
    if missing:
        failures.append(f"asyncio names with no row in {page}: {' '.join(missing)}")
    missing = [n for n in LOOP_METHODS_312 if n not in loop_names]
    if missing:
        failures.append(f"loop methods with no `loop.` row in {page}: {' '.join(missing)}")
    http_spans = [span for cell in aiohttp_cells(text) for span in spans(cell)]
    http_names = set().union(*(words(span) for span in http_spans))
    missing = [n for n in AIOHTTP_SEEDS if n not in http_names]
    missing += [n for n in AIOHTTP_SPANS if not any(n in span for span in http_spans)]
    if missing:
        failures.append(f"aiohttp names of the seeds with no row in {page}: {' '.join(missing)}")
    for f in failures:
        print("FAIL: " + f, file=sys.stderr)
    if failures:
        return 1
    print(f"{len(ALL_312)} asyncio names, {len(LOOP_METHODS_312)} loop methods and "
          f"{len(AIOHTTP_SEEDS) + len(AIOHTTP_SPANS)} aiohttp names of the seeds all have their row")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
