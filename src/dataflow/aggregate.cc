#include "dataflow/aggregate.h"

#include <cmath>
#include <limits>

#include <absl/container/btree_map.h>

#include "sql/functions.h"
#include "types/key_codec.h"

namespace sluice {
namespace {

// Orders values of one type as SQL does, for MIN/MAX multisets.
struct ValueLess {
  FieldType type;
  bool operator()(const Value& a, const Value& b) const { return CompareValues(type, a, b) < 0; }
};

// A float sum that rows leave as well as enter. A plain running sum loses a small value's
// digits while a large one is in it and never gets them back when the large one is retracted
// (avg 0.1 became 0.09999990463); the compensation term (Neumaier) keeps what rounding drops.
// Infinities and NaNs are counted apart, since inf - inf would poison the sum for good.
class FloatSum {
 public:
  void Add(double x, int weight) {
    if (std::isnan(x)) {
      nans_ += weight;
    } else if (std::isinf(x)) {
      (x > 0 ? positive_infinities_ : negative_infinities_) += weight;
    } else {
      const double y = weight * x;
      const double t = sum_ + y;
      compensation_ += std::abs(sum_) >= std::abs(y) ? (sum_ - t) + y : (y - t) + sum_;
      sum_ = t;
    }
  }
  double value() const {
    if (nans_ > 0 || (positive_infinities_ > 0 && negative_infinities_ > 0)) return std::nan("");
    if (positive_infinities_ > 0) return std::numeric_limits<double>::infinity();
    if (negative_infinities_ > 0) return -std::numeric_limits<double>::infinity();
    return sum_ + compensation_;
  }
  // No inputs left: whatever rounding residue remains is dropped.
  void Reset() { *this = FloatSum(); }

 private:
  double sum_ = 0, compensation_ = 0;
  int64_t nans_ = 0, positive_infinities_ = 0, negative_infinities_ = 0;
};

struct AggState {
  int64_t count = 0;    // non-NULL inputs (rows for COUNT(*))
  Decimal decimal_sum;  // SUM/AVG over int and decimal inputs
  FloatSum float_sum;   // SUM/AVG over floats
  int64_t int_sum = 0;  // SUM over durations
  int64_t trues = 0;    // BOOL_AND / BOOL_OR
  // MIN / MAX / COUNT(DISTINCT) / STRING_AGG: the multiset of values (a B-tree: far fewer
  // allocations and cache misses than std::map when a group sees many values).
  absl::btree_map<Value, int64_t, ValueLess> values{ValueLess{FieldType::kInt}};
};

}  // namespace

struct Aggregate::Group {
  std::string encoded;  // its key in groups_
  Record keys;
  int64_t rows = 0;
  std::vector<AggState> states;
  std::optional<Record> emitted;  // the output row currently downstream
  bool touched = false;
};

Aggregate::Aggregate(const BoundSelect& plan) : plan_(plan) {
  for (const auto& k : plan_.group_keys) key_columns_.push_back(k->column_index());
}
Aggregate::~Aggregate() = default;

std::unique_ptr<Aggregate::Group> Aggregate::NewGroup(std::string encoded, Record keys) const {
  auto group = std::make_unique<Group>();
  group->encoded = std::move(encoded);
  group->keys = std::move(keys);
  group->states.reserve(plan_.aggregates.size());
  for (const auto& a : plan_.aggregates) {
    group->states.emplace_back();
    group->states.back().values = absl::btree_map<Value, int64_t, ValueLess>(
        ValueLess{a.arg ? a.arg->type() : FieldType::kInt});
  }
  return group;
}

Result<Aggregate::Group*> Aggregate::GroupOf(const Record& row) {
  key_.clear();
  for (size_t i = 0; i < plan_.group_keys.size(); ++i) {
    const Expr& k = *plan_.group_keys[i];
    if (key_columns_[i]) {
      EncodeKeyValue(k.type(), row[*key_columns_[i]], &key_);
    } else {
      ASSIGN_OR_RETURN(Value v, k.Eval(row));
      EncodeKeyValue(k.type(), v, &key_);
    }
  }
  auto it = groups_.find(key_);
  if (it != groups_.end()) return it->second.get();
  // A new group: only now are the key values copied (or evaluated again).
  Record keys;
  keys.reserve(plan_.group_keys.size());
  for (size_t i = 0; i < plan_.group_keys.size(); ++i) {
    if (key_columns_[i]) {
      keys.push_back(row[*key_columns_[i]]);
    } else {
      ASSIGN_OR_RETURN(Value v, plan_.group_keys[i]->Eval(row));
      keys.push_back(std::move(v));
    }
  }
  auto group = NewGroup(key_, std::move(keys));
  Group* g = group.get();
  groups_.emplace(key_, std::move(group));
  return g;
}

void Aggregate::Start(std::vector<Operation>& output) {
  if (!plan_.group_keys.empty()) return;
  // The single group of an aggregate without GROUP BY exists from the start.
  auto group = NewGroup("", {});
  Group& g = *group;
  groups_.emplace("", std::move(group));
  (void)EmitChange(g, output);
}

Status Aggregate::Apply(const Record& row, int weight, std::vector<Group*>& touched) {
  ASSIGN_OR_RETURN(Group * group, GroupOf(row));
  Group& g = *group;
  if (!g.touched) {
    g.touched = true;
    touched.push_back(&g);
  }
  g.rows += weight;
  for (size_t i = 0; i < plan_.aggregates.size(); ++i) {
    const AggregateCall& call = plan_.aggregates[i];
    AggState& s = g.states[i];
    if (call.filter) {
      ASSIGN_OR_RETURN(Value pass, call.filter->Eval(row));
      if (!IsTrue(pass)) continue;
    }
    if (call.kind == AggregateKind::kCountStar) {
      s.count += weight;
      continue;
    }
    ASSIGN_OR_RETURN(Value v, call.arg->Eval(row));
    if (v.is_null()) continue;
    s.count += weight;
    switch (call.kind) {
      case AggregateKind::kSum:
      case AggregateKind::kAvg:
        if (call.arg->type() == FieldType::kFloat) {
          s.float_sum.Add(v.as_float(), weight);
          if (s.count == 0) s.float_sum.Reset();
        } else if (call.arg->type() == FieldType::kDuration) {
          s.int_sum += weight * v.as_int();
        } else {
          Decimal d = weight > 0 ? v.as_decimal() : v.as_decimal().Negated();
          ASSIGN_OR_RETURN(s.decimal_sum, Decimal::Add(s.decimal_sum, d));
        }
        break;
      case AggregateKind::kMin:
      case AggregateKind::kMax:
      case AggregateKind::kCountDistinct:
      case AggregateKind::kStringAgg: {
        auto [vit, inserted] = s.values.try_emplace(v, 0);
        vit->second += weight;
        if (vit->second == 0) s.values.erase(vit);
        break;
      }
      case AggregateKind::kBoolAnd:
      case AggregateKind::kBoolOr:
        if (v.as_bool()) s.trues += weight;
        break;
      default:
        break;
    }
  }
  return Status::OK();
}

Result<std::optional<Record>> Aggregate::Output(const Group& g) const {
  if (!plan_.group_keys.empty() && g.rows <= 0) return std::optional<Record>();
  Record agg_row = g.keys;
  for (size_t i = 0; i < plan_.aggregates.size(); ++i) {
    const AggregateCall& call = plan_.aggregates[i];
    const AggState& s = g.states[i];
    switch (call.kind) {
      case AggregateKind::kCount:
      case AggregateKind::kCountStar:
        agg_row.emplace_back(s.count);
        break;
      case AggregateKind::kSum:
        if (s.count == 0) {
          agg_row.emplace_back();
        } else if (call.result_type == FieldType::kFloat) {
          agg_row.emplace_back(s.float_sum.value());
        } else if (call.result_type == FieldType::kDuration) {
          agg_row.emplace_back(s.int_sum);
        } else {
          agg_row.emplace_back(s.decimal_sum);
        }
        break;
      case AggregateKind::kAvg:
        if (s.count == 0) {
          agg_row.emplace_back();
        } else if (call.result_type == FieldType::kFloat) {
          agg_row.emplace_back(s.float_sum.value() / double(s.count));
        } else {
          Decimal n(s.count, 0);
          ASSIGN_OR_RETURN(
              Decimal avg,
              Decimal::Divide(s.decimal_sum, n, Decimal::PostgresDivisionScale(s.decimal_sum, n)));
          agg_row.emplace_back(avg);
        }
        break;
      case AggregateKind::kMin:
        agg_row.push_back(s.values.empty() ? Value::Null() : s.values.begin()->first);
        break;
      case AggregateKind::kMax:
        agg_row.push_back(s.values.empty() ? Value::Null() : s.values.rbegin()->first);
        break;
      case AggregateKind::kBoolAnd:
        agg_row.push_back(s.count == 0 ? Value::Null() : Value(s.trues == s.count));
        break;
      case AggregateKind::kCountDistinct:
        agg_row.emplace_back(int64_t(s.values.size()));
        break;
      case AggregateKind::kStringAgg: {
        if (s.values.empty()) {
          agg_row.emplace_back();
          break;
        }
        std::string joined;
        bool first = true;
        auto append = [&](const Value& v, int64_t copies) {
          for (int64_t i = 0; i < copies; ++i) {
            if (!first) joined += call.separator;
            first = false;
            joined += v.as_string();
          }
        };
        if (call.descending) {
          for (auto it = s.values.rbegin(); it != s.values.rend(); ++it)
            append(it->first, it->second);
        } else {
          for (const auto& [v, copies] : s.values) append(v, copies);
        }
        agg_row.emplace_back(std::move(joined));
        break;
      }
      case AggregateKind::kBoolOr:
        agg_row.push_back(s.count == 0 ? Value::Null() : Value(s.trues > 0));
        break;
    }
  }
  return ProjectAggregateRow(plan_, agg_row);
}

Result<std::optional<Record>> ProjectAggregateRow(const BoundSelect& plan, const Record& agg_row) {
  if (plan.having) {
    ASSIGN_OR_RETURN(Value pass, plan.having->Eval(agg_row));
    if (!IsTrue(pass)) return std::optional<Record>();
  }
  Record out;
  for (const auto& p : plan.projections) {
    ASSIGN_OR_RETURN(Value v, p->Eval(agg_row));
    out.push_back(std::move(v));
  }
  return std::optional<Record>(std::move(out));
}

void AppendRowChange(const std::optional<Record>& before, const std::optional<Record>& after,
                     std::vector<Operation>& output) {
  if (before && after) {
    if (!IdenticalRecords(*before, *after)) output.push_back(Operation::Update(*before, *after));
  } else if (before) {
    output.push_back(Operation::Delete(*before));
  } else if (after) {
    output.push_back(Operation::Insert(*after));
  }
}

Status Aggregate::EmitChange(Group& g, std::vector<Operation>& output) {
  ASSIGN_OR_RETURN(std::optional<Record> now, Output(g));
  AppendRowChange(g.emitted, now, output);
  g.emitted = std::move(now);
  return Status::OK();
}

Status Aggregate::Process(const std::vector<Operation>& input, std::vector<Operation>& output) {
  std::vector<Group*> touched;
  Status status;
  for (const Operation& op : input) {
    if (op.kind != OpKind::kInsert) status = Apply(op.old_record, -1, touched);
    if (status.ok() && op.kind != OpKind::kDelete) status = Apply(op.new_record, +1, touched);
    if (!status.ok()) break;
  }
  for (Group* touched_group : touched) {
    Group& g = *touched_group;
    g.touched = false;
    if (status.ok()) {
      Status s = EmitChange(g, output);
      if (!s.ok()) status = s;
    }
    if (g.rows <= 0 && !plan_.group_keys.empty() && !g.emitted) groups_.erase(g.encoded);
  }
  return status;
}

}  // namespace sluice
