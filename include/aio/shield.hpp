// aio/shield.hpp: shield() (from asyncio.tasks).
//
//   int r = co_await aio::shield(task);
//
// Cancelling the awaiting task, or the future shield() returns, does not cancel the
// inner work: the awaiter gets CancelledError while the inner task runs on.
#pragma once

#include "aio/gather.hpp"

namespace aio {

template <detail::FutureLike A>
Future<detail::awaited_t<A>> shield(A&& aw) {
  using T = detail::awaited_t<A>;
  Future<T> inner = detail::to_future(std::forward<A>(aw));
  if (inner.done()) return inner;
  Future<T> outer = inner.get_loop().template create_future<T>();
  const CallbackId id = inner.add_done_callback([outer](Future<T>& in) {
    if (outer.cancelled()) {
      if (!in.cancelled()) (void)in.exception();  // mark it retrieved
      return;
    }
    if (in.cancelled()) {
      outer.cancel();
    } else if (std::exception_ptr e = in.exception()) {
      outer.set_exception(e);
    } else if constexpr (std::is_void_v<T>) {
      outer.set_result();
    } else {
      outer.set_result(in.result());
    }
  });
  outer.add_done_callback([inner, id](Future<T>&) {
    if (!inner.done()) inner.remove_done_callback(id);
  });
  return outer;
}

}  // namespace aio
