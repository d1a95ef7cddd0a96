-- grain: one distinct event key (source, source_kind, event_name, tested property values); key: all four
-- The first rule (in journey.yaml order) whose every condition holds gives the stage; none → unmapped.
-- Rules are rows of core.stage_rules / core.stage_rule_conditions, so no rule value is SQL text.
with event_keys as (
    select distinct
        source, source_kind, event_name,
        json_extract_string(properties, $property_paths) as property_values,
        coalesce(json_extract_string(properties, $property_paths)::varchar, '') as property_key
    from core.events
    where occurred_at <= $as_of
      and list_contains($sources, source)
),

checks as (
    select
        k.source, k.source_kind, k.event_name, k.property_values, c.rule_id, c.condition_id,
        case c.field
            when 'source' then k.source
            when 'source_kind' then k.source_kind
            when 'event_name' then k.event_name
            else k.property_values[c.prop_index]
        end as actual,
        c.op,
        c.value
    from event_keys as k
    cross join core.stage_rule_conditions as c
),

conditions_met as (
    select source, source_kind, event_name, property_values, rule_id, condition_id
    from checks
    group by all
    having bool_or(coalesce(case op
        when 'equals' then actual = value
        when 'like' then actual like value escape '\'
        when 'regex' then regexp_matches(actual, value)
    end, false))
),

rules_met as (
    select m.source, m.source_kind, m.event_name, m.property_values, m.rule_id
    from conditions_met as m
    join core.stage_rules as r using (rule_id)
    group by all
    having count(*) = any_value(r.n_conditions)  -- config refuses a rule without a condition (StageRule)
),

first_rule as (
    select source, source_kind, event_name, property_values, min(rule_id) as rule_id
    from rules_met
    group by all
)

select
    k.source, k.source_kind, k.event_name, k.property_key,
    coalesce(r.stage, 'unmapped') as stage,
    r.stage_index,
    f.rule_id,
    case when r.stage is null then 'unmapped' else 'rule' end as stage_source
from event_keys as k
left join first_rule as f
    on f.source = k.source and f.source_kind = k.source_kind and f.event_name = k.event_name
    and f.property_values is not distinct from k.property_values
left join core.stage_rules as r on r.rule_id = f.rule_id
