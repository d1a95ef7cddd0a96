-- What source $source holds: its loaded events, its quarantined rows and the files the manifest lists.
select
    (select count(*) from core.events where source = $source) as events,
    (select count(*) from ingest.quarantine where source = $source) as quarantined,
    (select count(distinct path) from ingest.manifest where source = $source) as files
