#include "dataflow/pane_aggregate.h"

#include "dataflow/aggregate.h"
#include "sql/functions.h"
#include "types/key_codec.h"

namespace sluice {

bool CanUsePanes(const BoundSelect& window, const BoundSelect& plan) {
  if (!window.window || window.window->slide_micros >= window.window->size_micros ||
      window.window->size_micros % window.window->slide_micros != 0) {
    return false;
  }
  if (!plan.aggregated || plan.where || !plan.joins.empty() || !plan.semi_joins.empty() ||
      plan.ranking || plan.inputs.size() != 1 || plan.inputs[0].table != window.into) {
    return false;
  }
  const size_t width = window.inputs[0].schema.fields.size();  // then window_start, window_end
  int window_keys = 0;
  for (const auto& k : plan.group_keys) {
    auto column = k->column_index();
    if (!column) return false;
    window_keys += *column == width || *column == width + 1;
  }
  for (const auto& a : plan.aggregates) {
    if (a.filter) return false;
    if (a.kind == AggregateKind::kCountStar) continue;
    if (a.kind != AggregateKind::kCount || !a.arg->column_index()) return false;
  }
  return window_keys == 1;
}

PaneAggregate::PaneAggregate(const WindowSpec& window, size_t window_input_width,
                             const BoundSelect& plan)
    : window_(window), plan_(plan), pane_column_(window_input_width) {
  for (size_t i = 0; i < plan_.group_keys.size(); ++i) {
    const size_t column = *plan_.group_keys[i]->column_index();
    columns_.push_back(column);
    if (column == window_input_width || column == window_input_width + 1) {
      window_key_ = i;
      key_is_end_ = column == window_input_width + 1;
    }
  }
}

const std::string& PaneAggregate::KeyOf(const std::string& prefix, int64_t start) {
  key_ = prefix;
  EncodeKeyValue(FieldType::kTimestamp, Value(start), &key_);
  return key_;
}

Result<std::optional<Record>> PaneAggregate::Output(const Window& w) {
  Pane total;
  total.counts.assign(plan_.aggregates.size(), 0);
  for (int64_t pane = w.start; pane < w.start + window_.size_micros; pane += window_.slide_micros) {
    auto it = panes_.find(KeyOf(w.prefix, pane));
    if (it == panes_.end()) continue;
    total.rows += it->second.rows;
    for (size_t a = 0; a < total.counts.size(); ++a) total.counts[a] += it->second.counts[a];
  }
  if (total.rows <= 0) return std::optional<Record>();
  // The aggregate row as Aggregate builds it: group keys, then the aggregates.
  Record agg_row;
  for (size_t i = 0, k = 0; i < columns_.size(); ++i) {
    if (i == window_key_) {
      agg_row.emplace_back(w.start + (key_is_end_ ? window_.size_micros : 0));
    } else {
      agg_row.push_back(w.keys[k++]);
    }
  }
  for (int64_t c : total.counts) agg_row.emplace_back(c);
  return ProjectAggregateRow(plan_, agg_row);
}

Status PaneAggregate::Process(const std::vector<Operation>& input, std::vector<Operation>& output) {
  std::vector<Window*> touched;
  std::string prefix;
  auto apply = [&](const Record& row, int weight) {
    prefix.clear();
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (i != window_key_) EncodeKeyValue(plan_.group_keys[i]->type(), row[columns_[i]], &prefix);
    }
    const int64_t pane = row[pane_column_].as_int();
    auto pane_it = panes_.find(KeyOf(prefix, pane));
    if (pane_it == panes_.end()) {
      pane_it = panes_.try_emplace(key_).first;
      pane_it->second.counts.assign(plan_.aggregates.size(), 0);
    }
    Pane& p = pane_it->second;
    p.rows += weight;
    for (size_t a = 0; a < plan_.aggregates.size(); ++a) {
      const AggregateCall& call = plan_.aggregates[a];
      if (call.kind == AggregateKind::kCountStar || !row[*call.arg->column_index()].is_null()) {
        p.counts[a] += weight;
      }
    }
    if (p.rows == 0) panes_.erase(pane_it);
    // Every window containing the pane: starts pane, pane - slide, ... (size / slide of them).
    for (int64_t start = pane; start > pane - window_.size_micros; start -= window_.slide_micros) {
      auto [it, inserted] = windows_.try_emplace(KeyOf(prefix, start));
      Window& w = it->second;
      if (inserted) {
        w.prefix = prefix;
        for (size_t i = 0; i < columns_.size(); ++i) {
          if (i != window_key_) w.keys.push_back(row[columns_[i]]);
        }
        w.start = start;
      }
      if (!w.touched) {
        w.touched = true;
        touched.push_back(&w);
      }
    }
  };
  for (const Operation& op : input) {
    if (op.kind != OpKind::kInsert && !op.old_record[pane_column_].is_null()) {
      apply(op.old_record, -1);
    }
    if (op.kind != OpKind::kDelete && !op.new_record[pane_column_].is_null()) {
      apply(op.new_record, +1);
    }
  }
  Status status;
  for (Window* window : touched) {
    Window& w = *window;
    w.touched = false;
    if (!status.ok()) continue;
    auto now = Output(w);
    if (!now.ok()) {
      status = now.status();
      continue;
    }
    AppendRowChange(w.emitted, *now, output);
    w.emitted = std::move(*now);
    if (!w.emitted) windows_.erase(KeyOf(w.prefix, w.start));
  }
  return status;
}

}  // namespace sluice
