// Interrupting a long forward pass between decoder blocks.
//
// Cancellation is otherwise checked between units of work (micro-batches, decode steps, prefill
// pieces); one unit can be a forward pass of tens of GFLOP, about a second on this machine and
// twice that under load. While a ScopedForwardInterrupt is alive on a thread, every forward pass
// of the Llama trunk on that thread calls its check before each decoder block and throws
// ForwardInterrupted when it returns true, so a cancelled job stops within one block's work
// (blocked attention, core/model/attention.h, also polls between its query blocks, in forward and
// in a backward that runs on the same thread, as CPU backward does). The
// caller that installed the check catches ForwardInterrupted and turns it into CANCELLED;
// everything the forward built is released as the exception unwinds (a KV cache it was filling is
// left uncommitted and must not be used again).
//
// Scopes nest: the innermost one is polled, and the previous one comes back when it ends. A check
// must be cheap (an atomic load, a clock read) and must not throw.
#ifndef ARC_CORE_MODEL_INTERRUPT_H_
#define ARC_CORE_MODEL_INTERRUPT_H_

#include <exception>
#include <functional>

namespace arc {

struct ForwardInterrupted : std::exception {
  const char* what() const noexcept override { return "forward pass interrupted"; }
};

class ScopedForwardInterrupt {
 public:
  // An empty check installs nothing (forward passes run uninterrupted, as without a scope).
  explicit ScopedForwardInterrupt(std::function<bool()> check);
  ~ScopedForwardInterrupt();
  ScopedForwardInterrupt(const ScopedForwardInterrupt&) = delete;
  ScopedForwardInterrupt& operator=(const ScopedForwardInterrupt&) = delete;

 private:
  std::function<bool()> check_;
  const std::function<bool()>* previous_;
};

// Throws ForwardInterrupted when this thread's innermost check says so; otherwise does nothing.
void PollForwardInterrupt();

}  // namespace arc

#endif  // ARC_CORE_MODEL_INTERRUPT_H_
