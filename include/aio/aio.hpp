// aio/aio.hpp: everything. One header per asyncio module below.
#pragma once

#include "aio/asyncgen.hpp"     // AsyncGenerator<T>, anext, collect
#include "aio/clock.hpp"        // loop clocks, the virtual clock, aio::time
#include "aio/contextlib.hpp"   // async_with
#include "aio/contextvars.hpp"  // ContextVar, Token, Context, copy_context
#include "aio/coro.hpp"         // Coro<T>
#include "aio/datagram.hpp"     // create_datagram_endpoint, DatagramTransport, DatagramSocket
#include "aio/errors.hpp"       // CancelledError, TimeoutError, ...
#include "aio/events.hpp"       // EventLoop, Handle, get_running_loop, ...
#include "aio/futures.hpp"      // Future<T>
#include "aio/gather.hpp"       // gather
#include "aio/generator.hpp"    // Generator<T>
#include "aio/locks.hpp"        // Lock, Event, Condition, Semaphore, Barrier
#include "aio/netdb.hpp"        // getaddrinfo, getnameinfo
#include "aio/queues.hpp"       // Queue, PriorityQueue, LifoQueue
#include "aio/runners.hpp"      // run, Runner
#include "aio/shield.hpp"       // shield
#include "aio/socket.hpp"       // Socket, SockAddr (loop.sock_* in events.hpp)
#include "aio/streams.hpp"      // open_connection, start_server, StreamReader, StreamWriter
#include "aio/protocols.hpp"    // create_connection, create_server, connect_read_pipe, subprocess_exec, Protocol, Transport
#include "aio/subprocess.hpp"   // create_subprocess_exec, create_subprocess_shell, Process
#include "aio/ssl.hpp"          // SSLContext, create_default_context (TLS for streams)
#include "aio/taskgroups.hpp"   // TaskGroup
#include "aio/tasks.hpp"        // Task<T>, create_task, sleep, ...
#include "aio/threads.hpp"      // to_thread, ThreadPoolExecutor, run_coroutine_threadsafe
#include "aio/timeouts.hpp"     // timeout, timeout_at
#include "aio/wait.hpp"         // wait, wait_for, as_completed
