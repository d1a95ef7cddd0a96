-- `journey sources check`: forget the scratch copy's quarantined rows of source $source (of file $path when
-- given), so the check counts them by reason as new.
delete from ingest.quarantine
where source = $source and ($path is null or path = $path)
