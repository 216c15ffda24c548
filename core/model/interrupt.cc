#include "core/model/interrupt.h"

#include <utility>

namespace arc {
namespace {

thread_local const std::function<bool()>* current_check = nullptr;

}  // namespace

ScopedForwardInterrupt::ScopedForwardInterrupt(std::function<bool()> check)
    : check_(std::move(check)), previous_(current_check) {
  if (check_) current_check = &check_;
}

ScopedForwardInterrupt::~ScopedForwardInterrupt() { current_check = previous_; }

void PollForwardInterrupt() {
  if (current_check != nullptr && (*current_check)()) throw ForwardInterrupted();
}

}  // namespace arc
