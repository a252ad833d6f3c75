// wait() and the helpers of wait_for(), untyped.
#include "aio/wait.hpp"

namespace aio::detail {

Coro<> wait_untyped(std::vector<Future<>> fs, std::optional<Delay> timeout, ReturnWhen return_when) {
  EventLoop& loop = get_running_loop();
  // Shared with the callbacks: one may already be scheduled when this frame ends.
  auto ctl = std::make_shared<WaitControl>();
  ctl->counter = fs.size();
  ctl->return_when = return_when;
  ctl->waiter = loop.create_future();
  if (timeout) {
    ctl->timeout_handle = loop.call_later(*timeout, [w = ctl->waiter] {
      if (!w.done()) w.set_result();
    });
  }
  std::vector<CallbackId> ids;
  ids.reserve(fs.size());
  for (const Future<>& f : fs) {
    ids.push_back(f.add_done_callback([ctl](Future<>& done) {
      --ctl->counter;
      if (ctl->counter == 0 || ctl->return_when == FIRST_COMPLETED ||
          (ctl->return_when == FIRST_EXCEPTION && !done.cancelled() && done.exception())) {
        ctl->timeout_handle.cancel();
        if (!ctl->waiter.done()) ctl->waiter.set_result();
      }
    }));
  }
  struct Finally {
    std::vector<Future<>>& fs;
    std::vector<CallbackId>& ids;
    WaitControl& ctl;
    ~Finally() {
      ctl.timeout_handle.cancel();
      for (std::size_t i = 0; i < fs.size(); ++i) fs[i].remove_done_callback(ids[i]);
    }
  } finally{fs, ids, *ctl};
  co_await ctl->waiter;
}

Coro<> cancel_and_wait(Future<> fut) {
  Future<> waiter = get_running_loop().create_future();
  const CallbackId id = fut.add_done_callback([waiter] {
    if (!waiter.done()) waiter.set_result();
  });
  struct Finally {
    Future<>& fut;
    CallbackId id;
    ~Finally() { fut.remove_done_callback(id); }
  } finally{fut, id};
  fut.cancel();
  co_await waiter;
}

}  // namespace aio::detail
