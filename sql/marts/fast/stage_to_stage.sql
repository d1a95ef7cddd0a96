-- grain: one pair of consecutive configured stages (k, k+1); key: (from_stage, to_stage)
-- DuckDB-only fast form of sql/marts/stage_to_stage.sql (same rows and types), read from the temp
-- table visit_rows: per customer, the first entry of stage k and the first later entry of stage
-- k+1 are list positions in the customer's stage list (on the last visit); nearest-rank
-- percentiles are indexed into one sorted list per pair; no join of the visits with themselves.
-- Reads start times by position: visit starts never decrease with visit_seq, as in the portable file.
-- Only the pairs a customer can have are tried: customers with two or more visits, stages k below
-- their highest one.
with per_stage as (
    select
        unnest(list_transform(
            range(1, list_max(v.stage_list)),
            lambda k: {
                'stage_index': k,
                'first_pos': list_position(v.stage_list, k),
                'next_pos': list_position(
                    list_slice(v.stage_list, list_position(v.stage_list, k) + 1, len(v.stage_list)), k + 1
                )
            }
        )) as p,
        v.start_list
    from visit_rows as v
    where v.ended_at is null and len(v.stage_list) > 1
),

next_entries as (
    -- visit starts never decrease with visit_seq (the durations audit): the first entry's start is
    -- the stage's earliest start, the first later entry's start the earliest later start
    select
        p.stage_index as stage_index,
        cast((epoch_us(start_list[p.first_pos + p.next_pos]) - epoch_us(start_list[p.first_pos])) as double)
            / 1000000 as seconds
    from per_stage
    where p.first_pos > 0 and p.next_pos > 0
),

summary as (
    select
        stage_index,
        count(*) as customers,
        list_sort(list(seconds)) as sorted_seconds
    from next_entries
    group by stage_index
)

select
    a.stage as from_stage,
    b.stage as to_stage,
    coalesce(m.customers, 0) as customers,
    m.sorted_seconds[(m.customers * 50 + 99) // 100] as median_s,
    m.sorted_seconds[(m.customers * 90 + 99) // 100] as p90_s
from marts.stages as a
join marts.stages as b
    on b.stage_index = a.stage_index + 1
left join summary as m
    on m.stage_index = a.stage_index
order by a.stage_index
