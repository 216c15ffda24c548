// SolveObserver: how a Solver reports its progress and learns that it should stop. One interface
// for every caller: the server turns the calls into a job's events and live metrics
// (server/worker_pool.cc, server/job_manager.h), arc-solve draws its progress bar from them
// (core/solve/batch_solve.cc), tests record them.
//
// The calls of one solve, in order:
//   OnPhase(kSearch)                            when the program search runs (experts both, search)
//   OnPhase(kTttData)                           when TTT runs (two or more demonstrations)
//   OnPhase(kTttTrain), OnTttStep(...) per step  when there are TTT samples
//   OnPhase(kInference), OnInference(0, total), then OnInference(done, total) after each batch
//   OnPhase(kSelection)                         when the TTT expert runs
// IsCancelled is polled before every training step, decode step and scoring batch, and every few
// primitive applications of the search; once it returns true the solve ends with CANCELLED.
//
// Thread-safety: every call but IsCancelled comes from the thread that runs Solve; IsCancelled is
// also called from the search's worker threads, so it must be thread-safe. The default implementations
// do nothing and never cancel.
#ifndef ARC_CORE_SOLVE_OBSERVER_H_
#define ARC_CORE_SOLVE_OBSERVER_H_

#include <string_view>

#include "core/solve/ttt.h"

namespace arc {

enum class SolvePhase { kSearch, kTttData, kTttTrain, kInference, kSelection };
std::string_view SolvePhaseName(SolvePhase phase);

class SolveObserver {
 public:
  virtual ~SolveObserver() = default;

  virtual void OnPhase(SolvePhase /*phase*/) {}
  // After each optimizer step of test-time training.
  virtual void OnTttStep(const TttProgress& /*progress*/) {}
  // Views decoded so far over all test inputs (both passes with SelectionOptions::base_attempt).
  virtual void OnInference(int /*views_done*/, int /*views_total*/) {}
  virtual bool IsCancelled() { return false; }
};

}  // namespace arc

#endif  // ARC_CORE_SOLVE_OBSERVER_H_
