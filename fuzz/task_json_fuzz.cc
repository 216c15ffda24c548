// Fuzz target: a task file's text (ParseTaskJson, core/data/task_io.h). Never crashes or throws;
// a refusal is INVALID_ARGUMENT; an accepted task survives TaskToJson and back unchanged.
#include "core/data/task_io.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using arc::fuzz::Check;
  const absl::StatusOr<arc::Task> task = arc::ParseTaskJson(arc::fuzz::AsText(data, size), "fuzz");
  arc::fuzz::CheckRefusal(task.status(), "ParseTaskJson");
  if (!task.ok()) return 0;
  Check(arc::ValidateTask(*task).ok(), "an accepted task validates");
  const absl::StatusOr<arc::Task> back = arc::ParseTaskJson(arc::TaskToJson(*task), "fuzz");
  Check(back.ok() && *back == *task, "TaskToJson round-trips an accepted task");
  return 0;
}
