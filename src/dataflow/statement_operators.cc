#include "dataflow/statement_operators.h"

#include "dataflow/aggregate.h"
#include "dataflow/map_filter.h"
#include "dataflow/ranking.h"
#include "dataflow/top_n.h"
#include "dataflow/window_assigner.h"

namespace sluice {

namespace {

void AddTopN(const BoundSelect& plan, StatementOperators& ops) {
  if (!plan.limit) return;
  ops.chain.push_back(
      std::make_unique<TopN>(plan.order_by, *plan.limit, plan.offset, plan.output_schema));
}

}  // namespace

StatementOperators BuildStatementOperators(const BoundSelect& plan) {
  StatementOperators ops;
  ops.from_inputs = plan.inputs.size();
  for (const auto& spec : plan.semi_joins) {
    ops.semi_joins.push_back(std::make_unique<SemiJoin>(spec, plan.input_schema));
  }
  if (plan.window) {
    ops.chain.push_back(std::make_unique<WindowAssigner>(*plan.window));
    return ops;
  }
  if (plan.set_op) {
    ops.set = std::make_unique<SetOperation>(SetOperation::FromSetOp(*plan.set_op),
                                             plan.output_schema);
    return ops;
  }
  for (size_t i = 0; i < plan.joins.size(); ++i) {
    Schema left;
    const InputTable& right = plan.inputs[i + 1];
    left.fields.assign(plan.input_schema.fields.begin(),
                       plan.input_schema.fields.begin() + long(right.offset));
    ops.joins.push_back(std::make_unique<Join>(plan.joins[i], std::move(left), right.schema));
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
      ops.chain.push_back(std::make_unique<MapFilter>(plan.where.get(), identity));
    }
    if (plan.ranking) {
      ops.chain.push_back(std::make_unique<Ranking>(plan));
    } else {
      ops.chain.push_back(std::make_unique<Aggregate>(plan));
    }
  } else {
    std::vector<const Expr*> projections;
    for (const auto& e : plan.projections) projections.push_back(e.get());
    ops.chain.push_back(std::make_unique<MapFilter>(plan.where.get(), projections));
  }
  if (plan.distinct) {
    ops.chain.push_back(
        std::make_unique<SetOperation>(SetOperation::Kind::kDistinct, plan.output_schema));
  }
  AddTopN(plan, ops);
  return ops;
}

void StatementOperators::Start(std::vector<Operation>& output) {
  for (auto& op : chain) {
    std::vector<Operation> started;
    op->Start(started);
    // What an operator starts with flows through the operators after it.
    for (size_t next = size_t(&op - chain.data()) + 1; next < chain.size() && !started.empty();
         ++next) {
      std::vector<Operation> out;
      if (!chain[next]->Process(started, out).ok()) break;
      started = std::move(out);
    }
    output.insert(output.end(), started.begin(), started.end());
  }
}

Status StatementOperators::Process(size_t slot, std::vector<Operation> input,
                                   std::vector<Operation>& output) {
  if (set) return set->Process(int(slot), input, output);
  size_t first_semi = 0;
  if (slot >= from_inputs) {
    // A semi join's subquery changed: which joined rows pass may change.
    first_semi = slot - from_inputs;
    std::vector<Operation> out;
    RETURN_IF_ERROR(semi_joins[first_semi]->Process(SemiJoin::kRight, input, out));
    input = std::move(out);
    ++first_semi;
  } else {
    // Through the joins: slot 0 enters the first join on the left, slot k on the right of
    // join k - 1; each join's output is the left input of the next.
    for (size_t j = slot == 0 ? 0 : slot - 1; j < joins.size(); ++j) {
      std::vector<Operation> out;
      Join::Side side = (j == 0 && slot == 0) || j + 1 != slot ? Join::kLeft : Join::kRight;
      RETURN_IF_ERROR(joins[j]->Process(side, input, out));
      input = std::move(out);
    }
  }
  for (size_t i = first_semi; i < semi_joins.size(); ++i) {
    std::vector<Operation> out;
    RETURN_IF_ERROR(semi_joins[i]->Process(SemiJoin::kLeft, input, out));
    input = std::move(out);
  }
  for (auto& op : chain) {
    std::vector<Operation> out;
    RETURN_IF_ERROR(op->Process(input, out));
    input = std::move(out);
  }
  output.insert(output.end(), std::make_move_iterator(input.begin()),
                std::make_move_iterator(input.end()));
  return Status::OK();
}

}  // namespace sluice
