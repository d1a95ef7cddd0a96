-- Whether the source holds event ids an earlier version generated from the time's text ('h…', classified.sql).
select exists (
    select 1
    from core.events
    where source = $source and starts_with(event_id, 'h')
)
