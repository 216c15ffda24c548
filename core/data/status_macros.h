// Small status-propagation macros. Debian's abseil (20220623) has absl::Status and absl::StatusOr but
// no status macros, so the project carries these two.
//
//   ARC_RETURN_IF_ERROR(expr);              // returns expr's status from the enclosing function if !ok
//   ARC_ASSIGN_OR_RETURN(auto x, expr);     // x = *expr, or returns expr.status()
//
// Both work in functions returning absl::Status or absl::StatusOr<T>.
#ifndef ARC_CORE_DATA_STATUS_MACROS_H_
#define ARC_CORE_DATA_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define ARC_STATUS_CONCAT_INNER_(a, b) a##b
#define ARC_STATUS_CONCAT_(a, b) ARC_STATUS_CONCAT_INNER_(a, b)

#define ARC_RETURN_IF_ERROR(expr)                    \
  do {                                               \
    const ::absl::Status arc_status_ = (expr);       \
    if (!arc_status_.ok()) return arc_status_;       \
  } while (false)

#define ARC_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return std::move(tmp).status();   \
  lhs = std::move(tmp).value()

#define ARC_ASSIGN_OR_RETURN(lhs, expr) \
  ARC_ASSIGN_OR_RETURN_IMPL_(ARC_STATUS_CONCAT_(arc_statusor_, __LINE__), lhs, expr)

#endif  // ARC_CORE_DATA_STATUS_MACROS_H_
