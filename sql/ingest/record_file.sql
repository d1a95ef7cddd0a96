-- One file read by a run: its counts and the spec it was read under, in the transaction that loaded its rows.
insert into ingest.manifest (
    run_id, source, path, size_bytes, content_sha256, rows_read, rows_loaded, rows_deduplicated,
    rows_quarantined, loaded_at, note, spec_sha256
)
values (
    $run_id, $source, $path, $size_bytes, $content_sha256, $rows_read, $rows_loaded, $rows_deduplicated,
    $rows_quarantined, $loaded_at, $note, $spec_sha256
)
