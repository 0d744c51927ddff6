-- Redis Streams as a source (mau consume --source redis): a stream is stored as a topic of one partition,
-- its next_offset counting entries, and the id of the last entry applied kept beside it, in the same row and
-- transaction, since XREAD resumes after an id. A dead letter of a stream names its entry id too.
-- An id is two 64-bit numbers: at most 41 characters.
ALTER TABLE mau_consumer_offset ADD COLUMN stream_entry_id VARCHAR(41) NULL;
ALTER TABLE mau_dead_letter ADD COLUMN stream_entry_id VARCHAR(41) NULL;
