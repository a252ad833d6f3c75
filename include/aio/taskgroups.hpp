// aio/taskgroups.hpp: TaskGroup (asyncio.taskgroups).
//
//   co_await aio::async_with(aio::TaskGroup(), [&](aio::TaskGroup& tg) -> aio::Coro<> {
//     auto t1 = tg.create_task(one());
//     auto t2 = tg.create_task(two());
//     co_return;
//   });   // here both are done
//
// The exit waits for every task. The first task to fail cancels the others and the
// body; all failures are raised together as an ExceptionGroup. A cancellation of the
// parent task cancels the children and propagates once they are done.
#pragma once

#include <exception>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

#include "aio/coro.hpp"
#include "aio/futures.hpp"
#include "aio/tasks.hpp"

namespace aio {

class TaskGroup {
 public:
  TaskGroup() = default;
  /// Movable until entered (async_with takes it by value); RuntimeError after.
  TaskGroup(TaskGroup&& o);
  TaskGroup& operator=(TaskGroup&&) = delete;
  ~TaskGroup();

  /// Starts `coro` as a task of the group. RuntimeError when the group was not
  /// entered, is finished, or is shutting down.
  template <class T>
  Task<T> create_task(Coro<T> coro, std::string name = {}) {
    check_can_create();
    Task<T> task = loop_->create_task(std::move(coro), std::move(name));
    track(Task<>(task));
    return task;
  }
  /// The same, running in `context` (asyncio's TaskGroup.create_task(context=)).
  template <class T>
  Task<T> create_task(Coro<T> coro, std::string name, const Context& context) {
    check_can_create();
    Task<T> task = loop_->create_task(std::move(coro), std::move(name), context);
    track(Task<>(task));
    return task;
  }
  template <class T>
  Task<T> create_task(Coro<T> coro, const Context& context) {
    return create_task(std::move(coro), std::string(), context);
  }

  Coro<> aenter();
  Coro<> aexit(std::exception_ptr error);
  std::string repr() const;

 private:
  void check_can_create() const;
  void track(Task<> task);
  void abort();
  void on_task_done(Task<>& task);

  EventLoop* loop_ = nullptr;
  Task<> parent_task_;
  // The tasks not done yet, in creation order (asyncio's set iterates them in that
  // order in practice, and aborting cancels them in it), with an index to drop one.
  struct Tracked {
    Task<> task;
    CallbackId callback;
  };
  std::list<Tracked> tasks_;
  std::unordered_map<detail::FutureStateBase*, std::list<Tracked>::iterator> index_;
  std::vector<std::exception_ptr> errors_;
  std::exception_ptr base_error_;
  Future<> on_completed_fut_{nullptr};
  bool entered_ = false;
  bool exiting_ = false;
  bool aborting_ = false;
  bool parent_cancel_requested_ = false;
};

}  // namespace aio
