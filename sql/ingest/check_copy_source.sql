-- `journey sources check`: copy source $source's events, manifest and quarantine rows from the attached
-- warehouse into the scratch one, so the check counts what a run would load, deduplicate and quarantine (bad
-- rows a file held before are not counted again).
insert into core.events select * from warehouse.core.events where source = $source;
insert into ingest.manifest by name select * from warehouse.ingest.manifest where source = $source;
insert into ingest.quarantine by name select * from warehouse.ingest.quarantine where source = $source;
