-- What source $source holds: its loaded events and the files the manifest lists.
select
    (select count(*) from core.events where source = $source) as events,
    (select count(distinct path) from ingest.manifest where source = $source) as files
