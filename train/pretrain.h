// Base-model pretraining (the library behind tools/arc_train.cc): full training of every parameter
// of a compact-format Llama model on a mix of augmented ARC `pretrain` tasks and generated tasks.
// This header only gathers the pieces, one concept per file:
//
//   train/arc_splits.h      the fixed pretrain/dev split of ARC-AGI-1 (splits.json), disjoint.
//   train/curriculum.h      the named curricula (default, v2): difficulty by sample index.
//   train/pretrain_data.h   the data mix: sample i of the training stream as a pure function of
//                           (options, i): ARC pretrain tasks, generated families and DSL-program
//                           tasks, the curriculum advancing with i.
//   train/length_batches.h  length bucketing under a token budget (rows * longest row).
//   train/pretrainer.h      the loop state: one optimizer step at a time (the step, schedule and
//                           AdamW shared with TTT: core/model/training.h), budgets, checkpoints.
//   train/checkpoint.h      checkpoint directories that resume bit-for-bit.
//   train/validation.h      validation sets and teacher-forced measures.
//   train/arc_train.h       arc-train's whole run (model, data, loop, reporting).
//
// Determinism: every random choice comes from arc::Rng streams forked from the seed and a sample or
// chunk index, so the data never depends on how a run was split into sittings. With the same flags,
// seed and thread count (libtorch's CPU kernels reduce in a thread-count-dependent order) a run
// gives the same weights whether or not it was interrupted and resumed. A --minutes budget makes
// the schedule depend on wall time and so is the one exception.
#ifndef ARC_TRAIN_PRETRAIN_H_
#define ARC_TRAIN_PRETRAIN_H_

#include "core/model/training.h"
#include "train/arc_splits.h"
#include "train/arc_train.h"
#include "train/checkpoint.h"
#include "train/curriculum.h"
#include "train/length_batches.h"
#include "train/pretrain_data.h"
#include "train/pretrainer.h"
#include "train/validation.h"

#endif  // ARC_TRAIN_PRETRAIN_H_
