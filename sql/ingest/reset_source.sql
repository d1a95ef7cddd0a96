-- Forgets everything source $source loaded, so the next run reads its files again under the current spec
-- (`journey sources reset`). Runs inside the caller's transaction: all of it or nothing.
delete from core.event_identifiers where source = $source;
delete from core.events where source = $source;
delete from ingest.quarantine where source = $source;
delete from ingest.manifest where source = $source;
