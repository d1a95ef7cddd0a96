-- The stage rules (rule_id, in file order) that map no touchpoint: their values match no event (a
-- misspelt event name or source), or an earlier rule takes every event they match.
select r.rule_id
from core.stage_rules as r
anti join core.touchpoints as t
    on t.rule_id = r.rule_id
order by r.rule_id
