#include "dataflow/statement_operators.h"

#include "dataflow/aggregate.h"
#include "dataflow/join.h"
#include "dataflow/map_filter.h"
#include "dataflow/pane_aggregate.h"
#include "dataflow/ranking.h"
#include "dataflow/semi_join.h"
#include "dataflow/set_operation.h"
#include "dataflow/top_n.h"
#include "dataflow/window_assigner.h"

namespace sluice {
namespace {

// One-input operators.
class OperatorStage final : public Stage {
 public:
  OperatorStage(std::unique_ptr<Operator> op, const char* name, bool keeps_state)
      : op_(std::move(op)), name_(name), keeps_state_(keeps_state) {}
  void Start(std::vector<Operation>& output) override { op_->Start(output); }
  Status Process(int, const std::vector<Operation>& input,
                 std::vector<Operation>& output) override {
    return op_->Process(input, output);
  }
  const char* name() const override { return name_; }
  bool keeps_state() const override { return keeps_state_; }

 private:
  std::unique_ptr<Operator> op_;
  const char* name_;
  bool keeps_state_;
};

class JoinStage final : public Stage {
 public:
  explicit JoinStage(std::unique_ptr<Join> join) : join_(std::move(join)) {}
  Status Process(int side, const std::vector<Operation>& input,
                 std::vector<Operation>& output) override {
    return join_->Process(side == 0 ? Join::kLeft : Join::kRight, input, output);
  }
  const char* name() const override { return "join"; }
  bool keeps_state() const override { return true; }

 private:
  std::unique_ptr<Join> join_;
};

class SemiJoinStage final : public Stage {
 public:
  explicit SemiJoinStage(std::unique_ptr<SemiJoin> join) : join_(std::move(join)) {}
  Status Process(int side, const std::vector<Operation>& input,
                 std::vector<Operation>& output) override {
    return join_->Process(side == 0 ? SemiJoin::kLeft : SemiJoin::kRight, input, output);
  }
  const char* name() const override { return "semi join"; }
  bool keeps_state() const override { return true; }

 private:
  std::unique_ptr<SemiJoin> join_;
};

class SetStage final : public Stage {
 public:
  SetStage(std::unique_ptr<SetOperation> set, bool keeps_state)
      : set_(std::move(set)), keeps_state_(keeps_state) {}
  Status Process(int side, const std::vector<Operation>& input,
                 std::vector<Operation>& output) override {
    return set_->Process(side, input, output);
  }
  const char* name() const override { return "set operation"; }
  bool keeps_state() const override { return keeps_state_; }

 private:
  std::unique_ptr<SetOperation> set_;
  bool keeps_state_;
};

}  // namespace

std::vector<bool> InputColumnsRead(const BoundSelect& plan, const std::vector<bool>& used) {
  if (plan.set_op) return {};
  const bool all_used = used.empty() || plan.distinct || plan.limit;
  auto is_used = [&](size_t output) { return all_used || (output < used.size() && used[output]); };
  if (plan.window) {
    // A window statement passes its input columns through and appends the window's bounds.
    if (all_used) return {};
    const size_t width = plan.inputs[0].schema.fields.size();
    std::vector<bool> keep(width, false);
    for (size_t c = 0; c < width; ++c) keep[c] = is_used(c);
    keep[plan.window->time_column] = true;
    return keep;
  }
  const size_t width = plan.input_schema.fields.size();
  std::vector<size_t> columns;
  bool unknown = false;
  auto read = [&](const Expr* e) {
    if (e && !e->CollectColumns(columns)) unknown = true;
  };
  read(plan.where.get());
  for (const auto& k : plan.group_keys) read(k.get());
  for (const auto& a : plan.aggregates) {
    read(a.arg.get());
    read(a.filter.get());
  }
  if (!plan.aggregated) {
    // Ranking: projections also see the rank values, past `width`; those are ignored below.
    for (size_t i = 0; i < plan.projections.size(); ++i) {
      if (is_used(i)) read(plan.projections[i].get());
    }
  }
  if (plan.ranking) {
    for (const auto& p : plan.ranking->partition_by) read(p.get());
    for (const auto& o : plan.ranking->order_by) read(o.expr.get());
  }
  for (const auto& s : plan.semi_joins) {
    for (const auto& k : s.left_keys) read(k.get());
  }
  for (size_t i = 0; i < plan.joins.size(); ++i) {
    const JoinStep& j = plan.joins[i];
    read(j.residual.get());
    for (size_t k : j.left_keys) columns.push_back(k);
    for (size_t k : j.right_keys) columns.push_back(plan.inputs[i + 1].offset + k);
  }
  if (unknown) return {};
  std::vector<bool> keep(width, false);
  for (size_t c : columns) {
    if (c < width) keep[c] = true;
  }
  return keep;
}

std::vector<bool> SlotColumnsRead(const BoundSelect& plan, size_t slot,
                                  const std::vector<bool>& used) {
  if (slot >= plan.inputs.size()) return {};  // a subquery of WHERE: its columns are the keys
  const std::vector<bool> keep = InputColumnsRead(plan, used);
  if (keep.empty() || plan.window) return keep;
  const InputTable& input = plan.inputs[slot];
  return std::vector<bool>(keep.begin() + long(input.offset),
                           keep.begin() + long(input.offset + input.schema.fields.size()));
}

namespace {

// Stateless one-input stages (filters, projections, window assignment).
void Add(StatementOperators& ops, std::unique_ptr<Operator> op, const char* name) {
  ops.stages.push_back(std::make_unique<OperatorStage>(std::move(op), name, false));
}

void AddStateful(StatementOperators& ops, std::unique_ptr<Operator> op, const char* name) {
  ops.stages.push_back(std::make_unique<OperatorStage>(std::move(op), name, true));
}

// DISTINCT and ORDER BY ... LIMIT, after whatever computes the select list.
void AddOutputStages(StatementOperators& ops, const BoundSelect& plan) {
  if (plan.distinct) {
    AddStateful(ops,
                std::make_unique<SetOperation>(SetOperation::Kind::kDistinct, plan.output_schema),
                "distinct");
  }
  if (plan.limit) {
    AddStateful(ops,
                std::make_unique<TopN>(plan.order_by, *plan.limit, plan.offset, plan.output_schema),
                "top-n");
  }
}

}  // namespace

StatementOperators BuildStatementOperators(const BoundSelect& plan,
                                           const std::vector<bool>& used_outputs) {
  StatementOperators ops;
  if (plan.set_op) {
    const SetOperation::Kind kind = SetOperation::FromSetOp(*plan.set_op);
    ops.stages.push_back(
        std::make_unique<SetStage>(std::make_unique<SetOperation>(kind, plan.output_schema),
                                   kind != SetOperation::Kind::kUnionAll));
    ops.entry = {{0, 0}, {0, 1}};
    return ops;
  }
  if (plan.window) {
    Add(ops, std::make_unique<WindowAssigner>(*plan.window, InputColumnsRead(plan, used_outputs)),
        "window");
    ops.entry = {{0, 0}};
    return ops;
  }
  // FROM: slot 0 enters the first join on the left, slot k the right of join k - 1.
  ops.entry.push_back({0, 0});
  // Joins copy only the columns anything after them reads; the others stay NULL.
  const std::vector<bool> keep =
      plan.joins.empty() ? std::vector<bool>() : InputColumnsRead(plan, used_outputs);
  for (size_t i = 0; i < plan.joins.size(); ++i) {
    Schema left;
    const InputTable& right = plan.inputs[i + 1];
    left.fields.assign(plan.input_schema.fields.begin(),
                       plan.input_schema.fields.begin() + long(right.offset));
    std::vector<bool> step_keep;
    if (!keep.empty()) {
      step_keep.assign(keep.begin(),
                       keep.begin() + long(right.offset + right.schema.fields.size()));
    }
    ops.entry.push_back({ops.stages.size(), 1});
    ops.stages.push_back(std::make_unique<JoinStage>(std::make_unique<Join>(
        plan.joins[i], std::move(left), right.schema, std::move(step_keep))));
  }
  // WHERE subqueries: their slots follow the FROM inputs.
  for (const auto& spec : plan.semi_joins) {
    ops.entry.push_back({ops.stages.size(), 1});
    ops.stages.push_back(
        std::make_unique<SemiJoinStage>(std::make_unique<SemiJoin>(spec, plan.input_schema)));
  }
  if (plan.ranking || plan.aggregated) {
    // WHERE first (as an identity MapFilter), then the ranking or aggregation, which computes
    // the select list itself.
    if (plan.where) {
      std::vector<const Expr*> identity;
      for (size_t i = 0; i < plan.input_schema.fields.size(); ++i) {
        const Field& f = plan.input_schema.fields[i];
        ops.owned.push_back(MakeColumn(i, f.name, f.type));
        identity.push_back(ops.owned.back().get());
      }
      Add(ops, std::make_unique<MapFilter>(plan.where.get(), identity), "filter");
    }
    if (plan.ranking) {
      AddStateful(ops, std::make_unique<Ranking>(plan), "ranking");
    } else {
      AddStateful(ops, std::make_unique<Aggregate>(plan), "aggregate");
    }
  } else {
    // Output columns nothing downstream reads are left NULL (not evaluated).
    std::vector<const Expr*> projections;
    for (size_t i = 0; i < plan.projections.size(); ++i) {
      const bool used = used_outputs.empty() || plan.distinct || plan.limit ||
                        (i < used_outputs.size() && used_outputs[i]);
      projections.push_back(used ? plan.projections[i].get() : nullptr);
    }
    Add(ops, std::make_unique<MapFilter>(plan.where.get(), projections), "filter and project");
  }
  AddOutputStages(ops, plan);
  return ops;
}

StatementOperators BuildPaneWindowOperators(const BoundSelect& window,
                                            const std::vector<bool>& used_outputs) {
  StatementOperators ops;
  WindowSpec panes = *window.window;
  panes.size_micros = panes.slide_micros;  // one row per pane: a TUMBLE by the slide
  Add(ops, std::make_unique<WindowAssigner>(panes, InputColumnsRead(window, used_outputs)),
      "window panes");
  ops.entry = {{0, 0}};
  return ops;
}

StatementOperators BuildPaneAggregateOperators(const BoundSelect& window, const BoundSelect& plan) {
  StatementOperators ops;
  AddStateful(
      ops,
      std::make_unique<PaneAggregate>(*window.window, window.inputs[0].schema.fields.size(), plan),
      "pane aggregate");
  AddOutputStages(ops, plan);
  ops.entry = {{0, 0}};
  return ops;
}

void StatementOperators::Start(std::vector<Operation>& output) {
  for (size_t i = 0; i < stages.size(); ++i) {
    std::vector<Operation> started;
    stages[i]->Start(started);
    // What a stage starts with flows through the stages after it.
    for (size_t next = i + 1; next < stages.size() && !started.empty(); ++next) {
      std::vector<Operation> out;
      if (!stages[next]->Process(0, started, out).ok()) break;
      started = std::move(out);
    }
    output.insert(output.end(), started.begin(), started.end());
  }
}

Status StatementOperators::Process(size_t slot, std::vector<Operation> input,
                                   std::vector<Operation>& output) {
  auto [stage, side] = entry[slot];
  for (size_t i = stage; i < stages.size(); ++i) {
    std::vector<Operation> out;
    RETURN_IF_ERROR(stages[i]->Process(i == stage ? side : 0, input, out));
    input = std::move(out);
  }
  output.insert(output.end(), std::make_move_iterator(input.begin()),
                std::make_move_iterator(input.end()));
  return Status::OK();
}

}  // namespace sluice
