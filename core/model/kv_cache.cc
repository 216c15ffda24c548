#include "core/model/kv_cache.h"

#include <c10/util/Exception.h>

namespace arc {

KvCache::KvCache(const ModelConfig& config, int64_t batch_size, int64_t max_length,
                 const at::TensorOptions& options)
    : batch_size_(batch_size), capacity_(max_length) {
  TORCH_CHECK(batch_size > 0 && max_length > 0, "KvCache: batch_size (", batch_size,
              ") and max_length (", max_length, ") must be positive");
  keys_.reserve(config.num_hidden_layers);
  values_.reserve(config.num_hidden_layers);
  for (int64_t l = 0; l < config.num_hidden_layers; ++l) {
    keys_.push_back(
        at::zeros({batch_size, config.num_key_value_heads, max_length, config.head_dim}, options));
    values_.push_back(at::zeros_like(keys_.back()));
  }
  const at::TensorOptions cpu_like = at::TensorOptions().device(options.device());
  key_mask_ = at::zeros({batch_size, max_length}, cpu_like.dtype(at::kBool));
  next_position_ = at::zeros({batch_size}, cpu_like.dtype(at::kLong));
}

int64_t KvCache::bytes() const {
  int64_t total = 0;
  for (size_t l = 0; l < keys_.size(); ++l) total += keys_[l].nbytes() + values_[l].nbytes();
  return total;
}

std::pair<at::Tensor, at::Tensor> KvCache::Append(int64_t layer, const at::Tensor& k,
                                                  const at::Tensor& v) {
  const int64_t t = k.size(2);
  TORCH_CHECK(length_ + t <= capacity_, "KvCache: ", length_, " + ", t,
              " tokens exceed the capacity of ", capacity_);
  TORCH_CHECK(k.size(0) == batch_size_, "KvCache: batch of ", k.size(0), ", cache holds ",
              batch_size_);
  at::Tensor& keys = keys_.at(layer);
  at::Tensor& values = values_.at(layer);
  keys.narrow(2, length_, t).copy_(k);                                        // (B, Hkv, T, D)
  values.narrow(2, length_, t).copy_(v);                                      // (B, Hkv, T, D)
  return {keys.narrow(2, 0, length_ + t), values.narrow(2, 0, length_ + t)};  // (B, Hkv, S, D)
}

void KvCache::Commit(const at::Tensor& step_mask) {
  const int64_t t = step_mask.size(1);
  TORCH_CHECK(length_ + t <= capacity_, "KvCache: ", length_, " + ", t,
              " tokens exceed the capacity of ", capacity_);
  key_mask_.narrow(1, length_, t).copy_(step_mask.to(at::kBool));
  next_position_.add_(step_mask.to(at::kLong).sum(1));
  length_ += t;
}

void KvCache::KeepRows(const at::Tensor& rows) {
  const at::Tensor index = rows.to(at::kCPU, at::kLong).contiguous();
  const int64_t n = index.size(0);
  const int64_t* r = index.data_ptr<int64_t>();
  bool increasing = true;
  for (int64_t i = 0; i < n; ++i) {
    TORCH_CHECK(r[i] >= 0 && r[i] < batch_size_, "KvCache::KeepRows: row ", r[i],
                " outside the batch of ", batch_size_);
    increasing = increasing && (i == 0 || r[i] > r[i - 1]);
  }
  if (increasing) {
    // Compact in place: row r[i] >= i moves down to i, in increasing i, so no source is
    // overwritten before it is read; the buffers keep their allocation and become views of the
    // first n rows (no reallocation churn on a GPU when sequences finish one by one).
    for (int64_t i = 0; i < n; ++i) {
      if (r[i] == i) continue;
      for (size_t l = 0; l < keys_.size(); ++l) {
        keys_[l][i].narrow(1, 0, length_).copy_(keys_[l][r[i]].narrow(1, 0, length_));
        values_[l][i].narrow(1, 0, length_).copy_(values_[l][r[i]].narrow(1, 0, length_));
      }
      key_mask_[i].copy_(key_mask_[r[i]]);
      next_position_[i].copy_(next_position_[r[i]]);
    }
    for (size_t l = 0; l < keys_.size(); ++l) {
      keys_[l] = keys_[l].narrow(0, 0, n);
      values_[l] = values_[l].narrow(0, 0, n);
    }
    key_mask_ = key_mask_.narrow(0, 0, n);
    next_position_ = next_position_.narrow(0, 0, n);
  } else {
    const at::Tensor on_device = index.to(key_mask_.device());
    for (size_t l = 0; l < keys_.size(); ++l) {
      keys_[l] = keys_[l].index_select(0, on_device);
      values_[l] = values_[l].index_select(0, on_device);
    }
    key_mask_ = key_mask_.index_select(0, on_device);
    next_position_ = next_position_.index_select(0, on_device);
  }
  batch_size_ = n;
}

void KvCache::Reset() {
  length_ = 0;
  key_mask_.zero_();
  next_position_.zero_();
}

}  // namespace arc
